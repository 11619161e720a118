// The Flex Consumption plan and the Linux Function App. Every connection is identity-based (the
// user-assigned identity: `__credential` + `__clientId`), the runtime lives in functionAppConfig (not
// in app settings, which Flex Consumption does not accept for it), and the webhook secrets are Key
// Vault references. This object is the whole of the app's settings: a provision replaces them all.

param name string
param planName string
param location string
param tags object
param serviceName string
param identityResourceId string
param identityClientId string
param identityPrincipalId string
param blobServiceUri string
param queueServiceUri string
param tableServiceUri string
param deploymentContainerUrl string
param applicationInsightsConnectionString string
param keyVaultUri string
@allowed([512, 2048, 4096])
param instanceMemoryMB int
@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

// PIM Warden's own settings (README "Settings"); empty means the code's default.
param graphBaseUrl string
param tablePrefix string
param enforceSchedule string
param fullAuditSchedule string
param collectSchedule string
param retentionSchedule string
param highValueTag string
param highValueAttribute string
param profileAttribute string
param defaultProfile string
param privateAccessApps bool
param protectedPrincipals string
param ticketRegisterSources string
param jiraMapping string
param apiTenantId string
param apiAudience string
param apiIssuer string
param apiJwksUrl string
param apiReaderRole string
param apiOperatorRole string
param webhookSecretNames object

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    tier: 'FlexConsumption'
    name: 'FC1'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: union(tags, { 'azd-service-name': serviceName })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityResourceId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    // Key Vault references are resolved with this identity (the default would be a system identity).
    keyVaultReferenceIdentity: identityResourceId
    siteConfig: {
      minTlsVersion: '1.2'
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityResourceId
          }
        }
      }
      scaleAndConcurrency: {
        instanceMemoryMB: instanceMemoryMB
        maximumInstanceCount: maximumInstanceCount
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: {
    // Functions host storage (locks, timers, keys) through the identity.
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: blobServiceUri
    AzureWebJobsStorage__queueServiceUri: queueServiceUri
    AzureWebJobsStorage__tableServiceUri: tableServiceUri
    // PIM Warden's state and reconcile queue (the queue trigger reads the same connection).
    PimWardenStorage__credential: 'managedidentity'
    PimWardenStorage__clientId: identityClientId
    PimWardenStorage__tableServiceUri: tableServiceUri
    PimWardenStorage__queueServiceUri: queueServiceUri
    // Telemetry with Entra authentication (local auth is off on the component).
    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'
    // host.json telemetryMode=OpenTelemetry: the Python worker configures the Azure Monitor distro itself
    // (configure_azure_monitor) and hands each invocation the host's trace context; the app never does.
    // Current workers read the first name, workers up to 4.34 the second.
    PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY: 'true'
    PYTHON_ENABLE_OPENTELEMETRY: 'true'
    // Microsoft Graph as the identity.
    PIMWARDEN_GRAPH_BASE_URL: graphBaseUrl
    PIMWARDEN_CREDENTIAL: 'managed-identity'
    PIMWARDEN_IDENTITY_CLIENT_ID: identityClientId
    PIMWARDEN_SERVICE_PRINCIPAL_ID: identityPrincipalId
    PIMWARDEN_TRUSTED_OWNERS: identityPrincipalId
    PIMWARDEN_PROTECTED_PRINCIPALS: protectedPrincipals
    PIMWARDEN_TABLE_PREFIX: tablePrefix
    // Timer schedules: the timer bindings read these settings.
    PIMWARDEN_ENFORCE_SCHEDULE: enforceSchedule
    PIMWARDEN_FULL_AUDIT_SCHEDULE: fullAuditSchedule
    PIMWARDEN_COLLECT_SCHEDULE: collectSchedule
    PIMWARDEN_RETENTION_SCHEDULE: retentionSchedule
    // Which apps are high-value, and their default profile.
    PIMWARDEN_HIGH_VALUE_TAG: highValueTag
    PIMWARDEN_HIGH_VALUE_ATTRIBUTE: highValueAttribute
    PIMWARDEN_PROFILE_ATTRIBUTE: profileAttribute
    PIMWARDEN_DEFAULT_PROFILE: defaultProfile
    PIMWARDEN_PRIVATE_ACCESS_APPS: privateAccessApps ? 'true' : 'false'
    // Ticket webhooks: signing secrets from Key Vault (latest version), never in app settings.
    PIMWARDEN_TICKETS_GENERIC_SECRETS: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${webhookSecretNames.generic}/)'
    PIMWARDEN_TICKETS_SERVICENOW_SECRETS: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${webhookSecretNames.servicenow}/)'
    PIMWARDEN_TICKETS_JIRA_SECRETS: '@Microsoft.KeyVault(SecretUri=${keyVaultUri}secrets/${webhookSecretNames.jira}/)'
    PIMWARDEN_TICKETS_JIRA_MAPPING: jiraMapping
    PIMWARDEN_TICKETS_REGISTER_SOURCES: ticketRegisterSources
    // Operator API: Entra access tokens for the app registration, validated in code.
    PIMWARDEN_API_TENANT_ID: apiTenantId
    PIMWARDEN_API_AUDIENCE: apiAudience
    PIMWARDEN_API_ISSUERS: apiIssuer
    PIMWARDEN_API_JWKS_URL: apiJwksUrl
    PIMWARDEN_API_READER_ROLE: apiReaderRole
    PIMWARDEN_API_OPERATOR_ROLE: apiOperatorRole
  }
}

output name string = site.name
output defaultHostName string = site.properties.defaultHostName
