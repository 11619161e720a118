// The one user-assigned managed identity PIM Warden runs as: host storage, its own state, Key Vault
// references, Application Insights and Microsoft Graph all use it (nothing uses a key or a secret).

param name string
param location string
param tags object

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' = {
  name: name
  location: location
  tags: tags
}

output resourceId string = identity.id
output clientId string = identity.properties.clientId
output principalId string = identity.properties.principalId
output name string = identity.name
