"""Who may reach the dashboard and how people are shown: one TOML file, validated strictly.

The file is `$AGENTLEDGER_ACCESS_CONFIG`, else `access.toml` in the per-user config folder; without
one the mode is `local`. Environment variables `AGENTLEDGER_ACCESS_<FIELD>` override it (nested with
`__`, e.g. `AGENTLEDGER_ACCESS_PROXY__HEADER`), so a secret can come from the deployment's secret
store instead of the file. docs/security.md documents every field; a test checks each is mentioned.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import stat
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlparse

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

CONFIG_ENV_VAR = "AGENTLEDGER_ACCESS_CONFIG"
Mode = Literal["local", "proxy", "oidc"]
Role = Literal["admin", "manager", "engineer"]

# Keys shorter than this are guessable offline from the pseudonyms themselves (one HMAC per guess).
MIN_SECRET_CHARS = 32
LOOPBACK = "127.0.0.1"


class AccessConfigError(ValueError):
    """The access configuration cannot be used; the message is one line naming the file and the field."""


class ProxySettings(BaseModel):
    """`mode = "proxy"`: an authenticating reverse proxy (oauth2-proxy, an identity-aware proxy) in front."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    header: str = Field(
        "X-Forwarded-Email", min_length=1, description="The request header the proxy sets to the signed-in "
        "person's e-mail (oauth2-proxy: X-Forwarded-Email with --pass-user-headers; Google IAP: "
        "X-Goog-Authenticated-User-Email, whose 'accounts.google.com:' prefix is removed)."
    )
    secret_header: str = Field(
        "X-AgentLedger-Proxy-Secret", min_length=1, description="The header carrying `shared_secret`."
    )
    shared_secret: SecretStr | None = Field(
        None, description="When set, a request must carry it in `secret_header` (the proxy adds it): a "
        "request that reached the dashboard without passing the proxy cannot forge the e-mail header. "
        "Required when the dashboard listens on anything but 127.0.0.1."
    )

    @field_validator("shared_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"shared_secret must be at least {MIN_SECRET_CHARS} characters")
        return value


def _absolute_url(value: str, name: str, path_suffix: str = "") -> str:
    url = urlparse(value)
    if url.scheme not in ("http", "https") or not url.netloc:
        raise ValueError(f"{name} must be an absolute http(s) URL, not {value!r}")
    # Credentials and codes travel over these URLs: plain http only to this machine.
    if url.scheme == "http" and url.hostname not in ("localhost", "127.0.0.1", "::1"):
        raise ValueError(f"{name} must use https (http only for localhost), not {value!r}")
    if path_suffix and not url.path.endswith(path_suffix):
        raise ValueError(f"{name} must end with {path_suffix} (Streamlit's callback), not {value!r}")
    return value


class OidcSettings(BaseModel):
    """`mode = "oidc"`: Streamlit's [auth] table, which Streamlit itself reads from this same file (st.login)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    redirect_uri: str = Field(description="This dashboard's URL + /oauth2callback, registered with the provider.")
    cookie_secret: SecretStr = Field(description=f"Signs the identity cookie: random, {MIN_SECRET_CHARS}+ characters.")
    client_id: str = Field(min_length=1, description="The OpenID Connect client id.")
    client_secret: SecretStr = Field(description="The OpenID Connect client secret.")
    server_metadata_url: str = Field(description="The provider's /.well-known/openid-configuration URL.")
    client_kwargs: dict[str, str] = Field(
        default_factory=dict, description="Extra authorization parameters (e.g. prompt = \"login\"); "
        "scope must keep `openid email`."
    )

    @field_validator("redirect_uri")
    @classmethod
    def _callback(cls, value: str) -> str:
        return _absolute_url(value, "redirect_uri", "/oauth2callback")

    @field_validator("server_metadata_url")
    @classmethod
    def _metadata(cls, value: str) -> str:
        return _absolute_url(value, "server_metadata_url")

    @field_validator("cookie_secret", "client_secret")
    @classmethod
    def _secret(cls, value: SecretStr, info) -> SecretStr:
        minimum = MIN_SECRET_CHARS if info.field_name == "cookie_secret" else 1
        if len(value.get_secret_value()) < minimum:
            raise ValueError(f"{info.field_name} must be at least {minimum} characters")
        return value

    @field_validator("client_kwargs")
    @classmethod
    def _keeps_email(cls, value: dict[str, str]) -> dict[str, str]:
        scope = value.get("scope")
        if scope is not None and not {"openid", "email"} <= set(scope.split()):
            raise ValueError("client_kwargs.scope must include openid and email: the viewer is their e-mail")
        return value


def config_path() -> Path:
    """The access file: $AGENTLEDGER_ACCESS_CONFIG, else access.toml in the per-user config folder."""
    env = os.environ.get(CONFIG_ENV_VAR)
    return Path(env).expanduser() if env else Path(platformdirs.user_config_dir("agentledger")) / "access.toml"


class AccessSettings(BaseSettings):
    """Mode, protection of people, and where the audit goes."""

    model_config = SettingsConfigDict(env_prefix="AGENTLEDGER_ACCESS_", env_nested_delimiter="__",
                                      extra="forbid", frozen=True)

    mode: Mode = Field(
        "local", description="local: one viewer (whoever runs it) sees everything, served on 127.0.0.1 only; "
        "proxy: the viewer is the e-mail a trusted reverse proxy puts in a header; oidc: the viewer signs in "
        "with an OpenID Connect provider (Streamlit's st.login)."
    )
    proxy: ProxySettings = Field(default_factory=ProxySettings, description="Settings of mode = proxy.")
    auth: OidcSettings | None = Field(None, description="Settings of mode = oidc (Streamlit's own [auth] table).")
    pseudonymous_roles: frozenset[Role] = Field(
        frozenset(), description="Roles that see people as stable pseudonyms instead of names (e.g. "
        "[\"manager\"] where a works agreement asks for it); team figures stay exact. A viewer always "
        "sees their own name."
    )
    pseudonym_key: SecretStr | None = Field(
        None, description=f"Key of the keyed hash (HMAC-SHA256) behind pseudonyms, {MIN_SECRET_CHARS}+ "
        "characters; the same key gives the same pseudonyms. Required with pseudonymous_roles."
    )
    min_group_size: int = Field(
        3, ge=1, description="Small-group protection: a figure over fewer than this many people is not "
        "shown to a pseudonymous viewer outside that group (with 2, a team total and one person's own "
        "figures would give away the other's)."
    )
    audit_file: Path | None = Field(
        None, description="The append-only audit log (SQLite). Default: beside the ledger, "
        "<ledger file>.audit.sqlite3."
    )

    @field_validator("pseudonym_key")
    @classmethod
    def _key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_CHARS:
            raise ValueError(f"pseudonym_key must be at least {MIN_SECRET_CHARS} characters")
        return value

    @model_validator(mode="after")
    def _complete(self) -> "AccessSettings":
        if self.pseudonymous_roles and self.pseudonym_key is None:
            raise ValueError("pseudonymous_roles needs a pseudonym_key")
        if self.mode == "oidc" and self.auth is None:
            raise ValueError("mode = \"oidc\" needs an [auth] table (redirect_uri, cookie_secret, client_id, "
                             "client_secret, server_metadata_url)")
        return self

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        path = config_path()
        sources: tuple[PydanticBaseSettingsSource, ...] = (init_settings, env_settings)
        return sources + ((TomlConfigSettingsSource(settings_cls, toml_file=path),) if path.is_file() else ())

    @property
    def fingerprint(self) -> str:
        """A digest of every setting, secrets included (for caches: never the secrets themselves)."""
        body = self.model_dump(mode="json")
        for secret in (self.pseudonym_key, self.proxy.shared_secret):
            body.setdefault("_secrets", []).append(secret.get_secret_value() if secret else None)
        return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()

    @property
    def holds_secrets(self) -> bool:
        """Whether anything in it must stay private to the account that runs the dashboard."""
        return bool(self.pseudonym_key or self.proxy.shared_secret or self.auth)

    def check_listen_address(self, host: str) -> None:
        """Refuse an address this mode must not serve on (raises AccessConfigError)."""
        if self.mode == "local" and host != LOOPBACK:
            raise AccessConfigError(
                f"mode \"local\" shows everything to whoever connects, so it serves {LOOPBACK} only, not "
                f"{host!r}: set mode = \"proxy\" or \"oidc\" in {config_path()} to serve other people")
        if self.mode == "proxy" and not _is_loopback(host) and self.proxy.shared_secret is None:
            raise AccessConfigError(
                f"mode \"proxy\" on {host!r} would let anyone who reaches the port forge the "
                f"{self.proxy.header} header: listen on {LOOPBACK} behind the proxy, or set proxy.shared_secret")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _private(path: Path) -> None:
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AccessConfigError(f"{path} holds secrets but others may read it (mode {stat.S_IMODE(mode):04o}): "
                                f"chmod 600 {path}")


def load_access_settings() -> AccessSettings:
    """The settings in force (file, then environment), validated; raises AccessConfigError in one line."""
    path = config_path()
    if os.environ.get(CONFIG_ENV_VAR) and not path.is_file():
        raise AccessConfigError(f"{path}: no such access configuration file (from ${CONFIG_ENV_VAR})")
    try:
        found = AccessSettings()
    except ValidationError as error:
        problem = error.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "file"
        raise AccessConfigError(f"{path}: {where}: {problem['msg'].removeprefix('Value error, ')}") from error
    except (OSError, ValueError) as error:      # unreadable file or TOML syntax
        raise AccessConfigError(f"{path}: {error}") from error
    if found.holds_secrets and path.is_file():
        _private(path)
    return found


@lru_cache(maxsize=8)
def _cached(path: str, mtime_ns: int, env: tuple[tuple[str, str], ...]) -> AccessSettings:
    return load_access_settings()


def access_settings() -> AccessSettings:
    """load_access_settings(), re-read when the file or the AGENTLEDGER_ACCESS_* environment changes."""
    path = config_path()
    mtime = path.stat().st_mtime_ns if path.is_file() else 0
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("AGENTLEDGER_ACCESS_")))
    return _cached(str(path), mtime, env)
