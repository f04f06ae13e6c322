"""The provider's claims, and the ways a test client can ask it to misbehave.

A registered client whose id ends in one of MISBEHAVIOURS gets ID tokens that are wrong in that way,
so the relying party's refusals are tested against tokens a real provider issued and signed.
"""

import base64
import json
import time

from jwcrypto import jwk, jwt
from oauth2_provider.oauth2_validators import OAuth2Validator

ROGUE_KEY = jwk.JWK.generate(kty="RSA", size=2048)
MISBEHAVIOURS = ("-wrong-audience", "-expired", "-bad-signature", "-other-issuer")


class Validator(OAuth2Validator):
    # Every claim in every response the scopes allow (groups has no standard scope).
    oidc_claim_scope = None

    def get_additional_claims(self, request):
        user = request.user
        return {
            "email": user.email,
            "email_verified": True,
            "given_name": user.first_name,
            "family_name": user.last_name,
            "preferred_username": user.username,
            "groups": sorted(user.groups.values_list("name", flat=True)),
        }

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, expiration_time = super().get_id_token_dictionary(token, token_handler, request)
        client_id = request.client.client_id
        if client_id.endswith("-wrong-audience"):
            claims["aud"] = "another-application"
        elif client_id.endswith("-expired"):
            claims["iat"] = int(time.time()) - 7200
            claims["exp"] = int(time.time()) - 3600
        elif client_id.endswith("-other-issuer"):
            claims["iss"] = "http://127.0.0.1:1/unknown-issuer"
        return claims, expiration_time

    def finalize_id_token(self, id_token, token, token_handler, request):
        signed = super().finalize_id_token(id_token, token, token_handler, request)
        if not request.client.client_id.endswith("-bad-signature"):
            return signed
        # The same header (and key id) and claims, signed by a key the provider never published.
        header, payload, _ = signed.split(".")
        decode = lambda part: json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))  # noqa: E731
        forged = jwt.JWT(header=decode(header), claims=decode(payload))
        forged.make_signed_token(ROGUE_KEY)
        return forged.serialize()
