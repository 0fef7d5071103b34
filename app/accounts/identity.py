"""How account names compare: one canonical form per username and per email address.

Both are NFKC-normalised and case-folded, so `alice` typed in fullwidth letters (U+FF41...)
is `alice`. Usernames are ASCII after that (the sign-up pattern). An email's local part must
be ASCII too: a Cyrillic `a` (U+0430) in `alice@example.com` would otherwise make a second
account that looks like the first.
A domain may be internationalised: it is stored as its IDNA A-label (`xn--...`), which shows
any look-alike, and a label that mixes scripts (Latin with Cyrillic, say) is refused.
"""

import unicodedata

MAX_EMAIL_LENGTH = 254  # RFC 5321; also the longest name a login may type


class InvalidIdentity(ValueError):
    """The name or address cannot be an account's; the message says why."""


def fold(text: str) -> str:
    """NFKC, then case folding: the form two names are compared in."""
    return unicodedata.normalize("NFKC", text).casefold().strip()


def normalize_username(username: str) -> str:
    """NFKC only: the case the user chose is kept for display; comparison folds it."""
    return unicodedata.normalize("NFKC", username).strip()


def normalize_email(address: str) -> str:
    """The canonical form of an address, or InvalidIdentity."""
    text = fold(address)
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise InvalidIdentity("Not a valid email address.")
    if not local.isascii():
        raise InvalidIdentity(
            "The part before @ must use ASCII letters only (look-alike letters are refused)."
        )
    return f"{local}@{_ascii_domain(domain)}"


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain
    labels = domain.split(".")
    for label in labels:
        if len(_scripts(label)) > 1:
            raise InvalidIdentity("A part of the domain mixes alphabets (look-alike letters).")
    try:
        # The codec applies nameprep (IDNA 2003) and punycode, label by label.
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        raise InvalidIdentity("The domain is not a valid internationalised name.") from None


# Scripts written together in one name: Japanese mixes these.
_COMPATIBLE = (frozenset({"CJK", "HIRAGANA", "KATAKANA", "KATAKANA-HIRAGANA"}),)


def _scripts(label: str) -> set[str]:
    """The scripts of a label's letters, by the first word of their Unicode names (LATIN,
    CYRILLIC, GREEK...); digits and hyphens belong to none."""
    scripts = set()
    for char in label:
        if not char.isalpha():
            continue
        scripts.add(unicodedata.name(char, "UNKNOWN").split(" ", 1)[0])
    if len(scripts) > 1 and any(scripts <= group for group in _COMPATIBLE):
        return {"JAPANESE"}
    return scripts


def login_key(identifier: str) -> str:
    """What a login's username field is compared with: a folded username, or a canonical
    address (an address that cannot be canonical is compared folded, and finds nobody)."""
    folded = fold(identifier)
    if "@" in folded:
        try:
            return normalize_email(folded)
        except InvalidIdentity:
            return folded
    return folded
