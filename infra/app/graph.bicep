// Microsoft Entra objects, through the Microsoft Graph Bicep extension:
// 1. the Microsoft Graph application permissions of the permission manifest, granted to the
//    identity as app role assignments on the Microsoft Graph service principal;
// 2. the operator API's app registration (identifier URI, two app roles) and its service principal,
//    which only assigned users and groups may get tokens for.
// The deployer needs Privileged Role Administrator (the grants) and Application Administrator or
// Cloud Application Administrator (the registration): see docs/deploy.md.

extension microsoftGraphV1

@description('Object id (principalId) of the managed identity that receives the Graph permissions.')
param principalId string
@description('Manifest entries to grant: objects with `name` and `id` (the app role id on Microsoft Graph).')
param permissions array
param graphAppId string
param apiAppUniqueName string
param apiAppDisplayName string
param identifierUri string
param readerRole string
param operatorRole string

resource graph 'Microsoft.Graph/servicePrincipals@v1.0' existing = {
  appId: graphAppId
}

resource grants 'Microsoft.Graph/appRoleAssignedTo@v1.0' = [for permission in permissions: {
  principalId: principalId
  resourceId: graph.id
  appRoleId: permission['id']
}]

resource operatorApi 'Microsoft.Graph/applications@v1.0' = {
  uniqueName: apiAppUniqueName
  displayName: apiAppDisplayName
  signInAudience: 'AzureADMyOrg'
  identifierUris: [
    identifierUri
  ]
  api: {
    requestedAccessTokenVersion: 2
    // One delegated scope, so that a client (Azure CLI, a script) can ask for a user's token at all;
    // what the user may do is decided by the app roles in the token, not by this scope.
    oauth2PermissionScopes: [
      {
        id: guid(apiAppUniqueName, 'user_impersonation')
        value: 'user_impersonation'
        type: 'User'
        isEnabled: true
        adminConsentDisplayName: 'Call the PIM Warden operator API'
        adminConsentDescription: 'Lets the client call the PIM Warden operator API as the signed-in user, within the app roles the user holds.'
        userConsentDisplayName: 'Call the PIM Warden operator API'
        userConsentDescription: 'Lets the client call the PIM Warden operator API as you, within the roles you hold.'
      }
    ]
  }
  appRoles: [
    {
      id: guid(apiAppUniqueName, readerRole)
      value: readerRole
      displayName: 'PIM Warden reader'
      description: 'Read managed apps, plans, evidence, findings and the compliance report.'
      allowedMemberTypes: [
        'User'
      ]
      isEnabled: true
    }
    {
      id: guid(apiAppUniqueName, operatorRole)
      value: operatorRole
      displayName: 'PIM Warden operator'
      description: 'Everything a reader may, plus re-sync apps and register or deregister them.'
      allowedMemberTypes: [
        'User'
      ]
      isEnabled: true
    }
  ]
}

resource operatorApiPrincipal 'Microsoft.Graph/servicePrincipals@v1.0' = {
  appId: operatorApi.appId
  // Only users and groups assigned one of the two roles can get a token for the API.
  appRoleAssignmentRequired: true
}

output apiAppId string = operatorApi.appId
output apiServicePrincipalId string = operatorApiPrincipal.id
