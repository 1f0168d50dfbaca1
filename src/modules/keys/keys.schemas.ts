import { Type } from 'typebox';
import { Id, Nullable, NullableInput } from '../../http/schemas.js';

export const MAX_PREKEYS_PER_UPLOAD = 100;

export const PublicKeyBody = Type.Object({
  public_key: Type.String({
    minLength: 1,
    maxLength: 16384,
    description:
      'A public key: PEM ("PUBLIC KEY" SPKI or "RSA PUBLIC KEY"), a public JWK (JSON text), or base64 / base64url of DER SPKI or of raw key bytes ' +
      '(32, 33, 56, 57, 65, 97, 133, 800, 1184 or 1568 bytes: Curve25519/Ed25519, Signal-style 0x05-prefixed, X448/Ed448, EC points, ML-KEM). ' +
      'Private key material (PEM/OpenSSH/PGP private blocks, a JWK with "d", DER PKCS#8/SEC1/PKCS#1 in base64 or hex) → 400.',
  }),
  private_key: Type.Optional(
    NullableInput(
      Type.String({
        maxLength: 16384,
        description:
          "The seed's field, kept only as an opaque reference label (at most 100 characters, e.g. \"laptop keychain\"), shown to you alone. " +
          'Anything that parses as a private key, or looks like raw key bytes (base64 of 32+ bytes with mixed case and digits, hex of 32+ bytes), → 400.',
      }),
    ),
  ),
});

export const E2eeKey = Type.Object({
  id: Type.Integer(),
  user: Type.Integer(),
  public_key: Type.String(),
  key_format: Type.Enum(['pem', 'jwk', 'spki', 'raw'], { description: 'How public_key was recognised' }),
  private_key: Nullable(Type.String({ description: 'Your opaque label; null for anyone else' })),
  created_at: Type.String(),
});

export const KeyListQuery = Type.Object({ user: Type.Optional(Id) });

const KeyId = Type.Integer({ minimum: 0, maximum: 2_147_483_647, description: 'Chosen by the client' });
const CompactKey = Type.String({
  minLength: 1,
  maxLength: 100,
  description: 'base64 / base64url of 32, 33, 56, 57 or 65 bytes (X25519 or Signal-style 0x05-prefixed Curve25519, X448, P-256)',
});

export const SignedPrekey = Type.Object({
  key_id: KeyId,
  public_key: CompactKey,
  signature: Type.String({ minLength: 1, maxLength: 200, description: 'base64 of 64–132 bytes, made with the identity key; clients verify it (X3DH), the server only stores it' }),
});

export const OneTimePrekey = Type.Object({ key_id: KeyId, public_key: CompactKey });

export const PrekeyUpload = Type.Object({
  identity_key: Type.Optional(CompactKey),
  signed_prekey: Type.Optional(SignedPrekey),
  one_time_prekeys: Type.Optional(Type.Array(OneTimePrekey, { maxItems: MAX_PREKEYS_PER_UPLOAD, description: `At most ${MAX_PREKEYS_PER_UPLOAD} per request` })),
});

export const PrekeyStatus = Type.Object({
  identity_key: Nullable(Type.String()),
  signed_prekey: Nullable(SignedPrekey),
  one_time_prekeys: Type.Integer({ description: 'Unclaimed one-time prekeys left' }),
});

export const PrekeyCount = Type.Object({ count: Type.Integer({ description: 'Unclaimed one-time prekeys left: upload more when it runs low' }) });

export const Bundle = Type.Object({
  user: Type.Integer(),
  identity_key: Type.String(),
  signed_prekey: SignedPrekey,
  one_time_prekey: Nullable(OneTimePrekey),
});

export const UserIdParams = Type.Object({ user_id: Id });
