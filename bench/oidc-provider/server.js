// panva's oidc-provider with its default in-memory adapter: client_credentials and
// introspection enabled, one confidential client. The comparison point of
// bench/token_lifecycle.sh (same machine, same load, same run).
import Provider from 'oidc-provider';

const port = Number(process.env.PORT ?? 3000);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [
    {
      client_id: 'bench',
      client_secret: process.env.CLIENT_SECRET,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: 'tasks:read tasks:write',
    },
  ],
  scopes: ['tasks:read', 'tasks:write'],
  features: {
    clientCredentials: { enabled: true },
    introspection: { enabled: true },
    devInteractions: { enabled: false },
  },
});
provider.listen(port, '127.0.0.1', () => console.log(`oidc-provider on ${port}`));
