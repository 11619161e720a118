// PIM Warden on Azure Functions Flex Consumption, deployed by `azd up` into an existing resource
// group (so the deployer needs rights on that group only): docs/deploy.md explains every resource.

targetScope = 'resourceGroup'

@minLength(1)
@maxLength(64)
@description('azd environment name; it seeds every resource name.')
param environmentName string

@minLength(1)
@description('Region of every resource; it must offer Flex Consumption.')
@metadata({
  azd: {
    type: 'location'
  }
})
param location string

@allowed([512, 2048, 4096])
@description('Memory of each Flex Consumption instance (MB).')
param instanceMemoryMB int = 2048

@minValue(40)
@maxValue(1000)
@description('Most instances the app may scale out to (40 is the lowest Flex Consumption allows).')
param maximumInstanceCount int = 40

@description('Create the Microsoft Entra objects (Graph grants, operator API registration) with the Microsoft Graph Bicep extension. False: grant with `python -m shared permissions grant` instead.')
param deployGraphResources bool = true

@description('Also grant CustomSecAttributeAssignment.Read.All (needed when PIMWARDEN_HIGH_VALUE_ATTRIBUTE or PIMWARDEN_PROFILE_ATTRIBUTE is set).')
param grantCustomSecurityAttributeRead bool = false

@description('Also grant RoleManagement.ReadWrite.Directory (needed by profiles that create protected, role-assignable groups).')
param grantProtectedGroups bool = false

@description('Audience of operator API tokens when deployGraphResources is false (your own app registration: its identifier URI and client id, comma-separated); empty leaves the operator API closed.')
param operatorApiAudience string = ''

@description('Object id of a person or group who may set the webhook secrets in Key Vault; empty for none.')
param secretsOfficerPrincipalId string = ''

@description('Turn on Key Vault purge protection (then `azd down --purge` cannot purge the vault).')
param keyVaultPurgeProtection bool = false

@description('Break-glass object ids (comma-separated) PIM Warden never removes from anything.')
param protectedPrincipals string = ''

@description('Custom security attribute value marking high-value apps, `Set/Attribute=Value`; empty for none.')
param highValueAttribute string = ''

@description('Custom security attribute naming an app\'s profile, `Set/Attribute`; empty for none.')
param profileAttribute string = ''

@description('Action group (resource id) the telemetry alerts notify; empty: the alerts show in the portal only.')
param alertActionGroupId string = ''
param highValueTag string = 'HighValue'
param defaultProfile string = 'standard'
param privateAccessApps bool = false
param enforceSchedule string = '0 */15 * * * *'
param fullAuditSchedule string = '0 30 3 * * *'
param collectSchedule string = '0 */15 * * * *'
param retentionSchedule string = '0 0 2 * * *'
param ticketRegisterSources string = ''
param jiraMapping string = ''
param graphBaseUrl string = 'https://graph.microsoft.com/v1.0'

var resourceToken = toLower(uniqueString(subscription().id, resourceGroup().id, environmentName))
var tags = {
  'azd-env-name': environmentName
}
var serviceName = 'function'
var functionAppName = 'func-pimwarden-${resourceToken}'
var apiAppUniqueName = 'pimwarden-api-${resourceToken}'
var identifierUri = 'api://${tenant().tenantId}/pimwarden-${resourceToken}'
var loginEndpoint = environment().authentication.loginEndpoint
var readerRole = 'PimWarden.Reader'
var operatorRole = 'PimWarden.Operator'
var webhookSecretNames = {
  generic: 'pimwarden-tickets-generic'
  servicenow: 'pimwarden-tickets-servicenow'
  jira: 'pimwarden-tickets-jira'
}

// The Graph application permissions come from the permission manifest itself: every `always` entry,
// plus the two optional ones when their parameter asks for them.
var manifest = loadJsonContent('../shared/permissions/manifest.json')
var alwaysPermissions = filter(manifest.permissions, p => p['needed'] == 'always')
var attributePermissions = filter(manifest.permissions, p => p['name'] == 'CustomSecAttributeAssignment.Read.All')
var protectedGroupPermissions = filter(manifest.permissions, p => p['name'] == 'RoleManagement.ReadWrite.Directory')
var graphPermissions = concat(
  alwaysPermissions,
  grantCustomSecurityAttributeRead ? attributePermissions : [],
  grantProtectedGroups ? protectedGroupPermissions : []
)

module identity 'app/identity.bicep' = {
  name: 'identity'
  params: {
    name: 'id-pimwarden-${resourceToken}'
    location: location
    tags: tags
  }
}

module storage 'app/storage.bicep' = {
  name: 'storage'
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: 'app-package-${resourceToken}'
    principalId: identity.outputs.principalId
  }
}

module keyVault 'app/keyvault.bicep' = {
  name: 'keyvault'
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
    secretsOfficerPrincipalId: secretsOfficerPrincipalId
    enablePurgeProtection: keyVaultPurgeProtection
  }
}

module monitoring 'app/monitoring.bicep' = {
  name: 'monitoring'
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    principalId: identity.outputs.principalId
  }
}

// Alerts and the workbook over the telemetry (docs/operations.md).
module alerts 'app/alerts.bicep' = {
  name: 'alerts'
  params: {
    workspaceId: monitoring.outputs.workspaceId
    location: location
    tags: tags
    actionGroupId: alertActionGroupId
  }
}

module graph 'app/graph.bicep' = if (deployGraphResources) {
  name: 'graph'
  params: {
    principalId: identity.outputs.principalId
    permissions: graphPermissions
    graphAppId: manifest.resource.appId
    apiAppUniqueName: apiAppUniqueName
    apiAppDisplayName: 'PIM Warden operator API (${environmentName})'
    identifierUri: identifierUri
    readerRole: readerRole
    operatorRole: operatorRole
  }
}

// v2.0 access tokens carry the client id as `aud`; accept the identifier URI too.
var apiAudience = deployGraphResources ? '${identifierUri},${graph.outputs.apiAppId}' : operatorApiAudience

module functionApp 'app/function.bicep' = {
  name: 'function'
  params: {
    name: functionAppName
    planName: 'plan-${resourceToken}'
    location: location
    tags: tags
    serviceName: serviceName
    identityResourceId: identity.outputs.resourceId
    identityClientId: identity.outputs.clientId
    identityPrincipalId: identity.outputs.principalId
    blobServiceUri: storage.outputs.blobServiceUri
    queueServiceUri: storage.outputs.queueServiceUri
    tableServiceUri: storage.outputs.tableServiceUri
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    keyVaultUri: keyVault.outputs.vaultUri
    instanceMemoryMB: instanceMemoryMB
    maximumInstanceCount: maximumInstanceCount
    graphBaseUrl: graphBaseUrl
    tablePrefix: 'pimwarden'
    enforceSchedule: enforceSchedule
    fullAuditSchedule: fullAuditSchedule
    collectSchedule: collectSchedule
    retentionSchedule: retentionSchedule
    highValueTag: highValueTag
    highValueAttribute: highValueAttribute
    profileAttribute: profileAttribute
    defaultProfile: defaultProfile
    privateAccessApps: privateAccessApps
    protectedPrincipals: protectedPrincipals
    ticketRegisterSources: ticketRegisterSources
    jiraMapping: jiraMapping
    apiTenantId: tenant().tenantId
    apiAudience: apiAudience
    apiIssuer: '${loginEndpoint}${tenant().tenantId}/v2.0'
    apiJwksUrl: '${loginEndpoint}${tenant().tenantId}/discovery/v2.0/keys'
    apiReaderRole: readerRole
    apiOperatorRole: operatorRole
    webhookSecretNames: webhookSecretNames
  }
}

var appUrl = 'https://${functionApp.outputs.defaultHostName}'

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_FUNCTION_NAME string = functionApp.outputs.name
output SERVICE_FUNCTION_NAME string = functionApp.outputs.name
output APP_URL string = appUrl
output IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
output IDENTITY_CLIENT_ID string = identity.outputs.clientId
output KEY_VAULT_NAME string = keyVault.outputs.name
output WEBHOOK_SECRET_NAMES object = webhookSecretNames
output WEBHOOK_URL_GENERIC string = '${appUrl}/api/tickets/generic'
output WEBHOOK_URL_SERVICENOW string = '${appUrl}/api/tickets/servicenow'
output WEBHOOK_URL_JIRA string = '${appUrl}/api/tickets/jira'
output OPERATOR_API_APP_ID string = deployGraphResources ? graph.outputs.apiAppId : ''
output OPERATOR_API_IDENTIFIER_URI string = deployGraphResources ? identifierUri : ''
output OPERATOR_API_SERVICE_PRINCIPAL_ID string = deployGraphResources ? graph.outputs.apiServicePrincipalId : ''
