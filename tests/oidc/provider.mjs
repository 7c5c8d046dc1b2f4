// A real OpenID Connect provider for the sign-in tests: panva's oidc-provider with its
// development sign-in pages (any password; the login names an account of ACCOUNTS).
//
// Environment: PORT, ISSUER (default http://127.0.0.1:PORT), CLIENT_ID, CLIENT_SECRET,
// REDIRECT_URIS (comma-separated), ACCOUNTS (JSON: login -> {"name", "groups"?}; an account
// without "groups" gets no groups claim), CODE_TTL (seconds an authorization code lives).
import Provider from 'oidc-provider';

const port = Number(process.env.PORT);
const issuer = process.env.ISSUER || `http://127.0.0.1:${port}`;
const accounts = JSON.parse(process.env.ACCOUNTS || '{}');

const provider = new Provider(issuer, {
  clients: [{
    client_id: process.env.CLIENT_ID,
    client_secret: process.env.CLIENT_SECRET,
    redirect_uris: process.env.REDIRECT_URIS.split(','),
    post_logout_redirect_uris: process.env.REDIRECT_URIS.split(',').map((u) => new URL('/', u).href),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true, methods: ['S256'] },
  scopes: ['openid', 'profile', 'groups'],
  claims: { openid: ['sub'], profile: ['name'], groups: ['groups'] },
  // the ID token carries the claims of the scopes asked (the service reads them there)
  conformIdTokenClaims: false,
  ttl: { AuthorizationCode: Number(process.env.CODE_TTL || 60) },
  cookies: { keys: ['liveblog-tests-only'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, sub) {
    const account = accounts[sub];
    if (!account) return undefined;
    return {
      accountId: sub,
      async claims() {
        const claims = { sub, name: account.name };
        if (account.groups) claims.groups = account.groups;
        return claims;
      },
    };
  },
});

provider.listen(port, '127.0.0.1', () => {
  console.log(`ready ${issuer}`);
});
