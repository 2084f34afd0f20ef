"""The embedded OpenID Connect provider, laid out like Keycloak (``/auth/realms/kepu/...``).

python-keycloak's ``KeycloakOpenID`` works against it unchanged: discovery, realm
info, certs (JWKS), token (authorization_code + PKCE, refresh_token, password,
client_credentials), userinfo, introspection, logout, and the browser login
with Keycloak's required actions (update password, configure TOTP).

Like Keycloak's ``KEYCLOAK_IDENTITY``, a browser that signed in carries a sign-in session
cookie (``KEPU_SSO``, sealed, HttpOnly, for the realm's path only): the authorization endpoint
answers it with a code at once, so an app that keeps its tokens in memory gets them back after a
reload without the password. The cookie names the latest SSO session; it stops working when that
session is revoked or idles out, when the account is disabled or locked, and at logout.
"""

from .app import create_oidc_app
from .provider import OIDC, PREFIX, REALM, SSO_COOKIE

__all__ = ["OIDC", "PREFIX", "REALM", "SSO_COOKIE", "create_oidc_app"]
