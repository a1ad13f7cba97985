"""Identity's pure domain: JPKI card verification, challenges, passwords, 認証ID, link tokens, lockout, representation.

No framework, no I/O except through the ports declared here (``ChallengeStore``, ``RevocationChecker``). Every refusal
carries a stable code and a message in Japanese and English (:class:`identity.domain.errors.Reason`), which the HTTP
layer turns into ``shared.errors.AppError`` problem details. The domain never sees or stores a My Number, a card PIN
or a raw password/token beyond the call that hashes it.
"""
