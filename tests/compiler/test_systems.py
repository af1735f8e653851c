"""Downstream systems, queues and retry policies."""

from __future__ import annotations

import pytest
from compiler_support import Compile

from om_dsl.ir import models as ir
from om_dsl.runtime.downstream.urls import UrlError, base_url, join


def system(om: Compile, body: str) -> ir.System:
    cat = om(f"system S {{ {body} }}", base=True).catalog
    return next(s for s in cat.systems if s.name == "S")


def test_system_lowering(om: Compile) -> None:
    cat = om(
        '/// Billing.\nsystem S "Sys" {\n  url env("S_URL", "http://127.0.0.1:8101/")\n'
        '  timeout 5s\n  auth bearer env("S_TOKEN")\n  retry staggered 1s, 5s\n'
        "  offline\n  permanent 422, 400, 422\n}",
        base=True,
    ).catalog
    (s,) = cat.systems
    assert (s.name, s.display_name, s.doc) == ("S", "Sys", "Billing.")
    assert (s.url_env, s.base_url) == ("S_URL", "http://127.0.0.1:8101")
    assert s.timeout_ms == 5000
    assert s.auth == ir.Auth(scheme="bearer", env=["S_TOKEN"])
    assert s.retry == ir.RetryPolicy(kind="staggered", delays_ms=[1000, 5000], max_retries=2)
    assert s.offline is True
    assert s.permanent_statuses == [400, 422]


def test_system_defaults(om: Compile) -> None:
    s = system(om, 'url "https://example.com"')
    assert (s.base_url, s.url_env, s.timeout_ms, s.auth, s.retry, s.offline) == (
        "https://example.com", None, 10_000, None, None, False,
    )  # fmt: skip


def test_url_from_the_environment_only(om: Compile) -> None:
    s = system(om, 'url env("ONLY_ENV")')
    assert (s.url_env, s.base_url) == ("ONLY_ENV", None)


@pytest.mark.parametrize(
    ("retry", "expected"),
    [
        ("retry none", ir.RetryPolicy(kind="none")),
        ("retry fixed 2s", ir.RetryPolicy(kind="fixed", delays_ms=[2000], max_retries=3)),
        ("retry fixed 2s max 7", ir.RetryPolicy(kind="fixed", delays_ms=[2000], max_retries=7)),
        (
            "retry exponential 100ms cap 5s jitter",
            ir.RetryPolicy(
                kind="exponential", delays_ms=[100], max_retries=5, cap_ms=5000, jitter=True
            ),
        ),
    ],
)
def test_retry_policies(om: Compile, retry: str, expected: ir.RetryPolicy) -> None:
    assert system(om, f'url "http://h" {retry}').retry == expected


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ('auth basic env("U") env("P")', ir.Auth(scheme="basic", env=["U", "P"])),
        ('auth header "X-Key" env("K")', ir.Auth(scheme="header", header="X-Key", env=["K"])),
    ],
)
def test_auth_keeps_only_variable_names(om: Compile, auth: str, expected: ir.Auth) -> None:
    assert system(om, f'url "http://h" {auth}').auth == expected


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        ("timeout 5s", "E090", "system S has no url"),
        ('url "ftp://h"', "E090", "'ftp://h' is not an http(s) URL"),
        ('url "localhost:80"', "E090", "'localhost:80' is not an http(s) URL"),
        ('url "http://user:pw@h"', "E093", "a URL must not carry credentials"),
        (
            'url "http://h" auth bearer env("T", "secret")',
            "E093",
            "a secret must come from the environment: remove the default value",
        ),
        ('url env("1BAD")', "E091", "'1BAD' is not a valid environment variable name"),
        (
            'url "http://h" auth bearer env("has space")',
            "E091",
            "'has space' is not a valid environment variable name",
        ),
        ('url "http://h" timeout 1s timeout 2s', "E092", "'timeout' is given twice for system S"),
        ('url "http://h" timeout 0s', "E086", "timeout must be longer than 0"),
        ('url "http://h" retry fixed 1s max 0', "E086", "retry max must be at least 1"),
        (
            'url "http://h" retry exponential 5s cap 1s',
            "E086",
            "retry cap is shorter than the first delay",
        ),
        (
            'url "http://h" permanent 404, 500',
            "E094",
            "permanent statuses are 4xx client errors; 500 is not",
        ),
        ('url "http://h" timeout 9999999999999999d', "E005", "timeout is too large"),
        (
            'url "http://h" retry fixed 9999999999999999d',
            "E005",
            "a retry delay or count is too large",
        ),
    ],
)
def test_system_errors(om: Compile, body: str, code: str, message: str) -> None:
    compiled = om(f"system S {{ {body} }}", base=True)
    assert compiled.one(code).message == message


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://[::1", "is not a valid URL"),
        ("http://[x]", "is not a valid URL"),
        ("https://a[b", "is not a valid URL"),
        ("http://x:99999", "has a port that is not a number from 1 to 65535"),
        ("http://x:abc", "has a port that is not a number from 1 to 65535"),
        ("http://x:0", "has a port that is not a number from 1 to 65535"),
        ("  http://x", "contains a space or a control character"),
        ("http://x y", "contains a space or a control character"),
    ],
)
@pytest.mark.parametrize("written", ['url "{}"', 'url env("S_URL", "{}")'])
def test_a_url_the_runtime_would_refuse_is_e090_not_a_crash(
    om: Compile, url: str, why: str, written: str
) -> None:
    """The compiler and the runtime share one check (om_dsl.base_urls), so a URL that compiles
    is one every callout can use; before, `[` crashed the compiler and `:99999` failed at run
    time on every callout."""
    diag = om(f"system S {{ {written.format(url)} }}", base=True).one("E090")
    assert diag.message == f"'{url}' {why}"
    system = om('system S { url env("S_URL") }', base=True).catalog.systems[0]
    system = system.model_copy(update={"url_env": None, "base_url": url})
    with pytest.raises(UrlError, match=f"the catalog's url of system S {why}"):
        base_url(system, {})


def test_blanks_around_an_environment_url_are_not_part_of_it(om: Compile) -> None:
    system = om('system S { url env("S_URL") }', base=True).catalog.systems[0]
    assert base_url(system, {"S_URL": " http://h:8080/api/\n"}) == "http://h:8080/api"
    with pytest.raises(UrlError, match="environment variable S_URL contains a space"):
        base_url(system, {"S_URL": "http://h x"})


def test_a_bad_url_is_reported_with_the_other_errors(om: Compile) -> None:
    compiled = om(
        'system S { url "http://[::1" }\nsystem T { timeout 0s url "http://h" }', base=True
    )
    assert sorted(d.code for d in compiled.errors) == ["E086", "E090"]


def test_the_stored_url_is_the_one_the_runtime_calls(om: Compile) -> None:
    assert system(om, 'url "http://h:8080/api/?q=1#f"').base_url == "http://h:8080/api"


def test_missing_url_hint_shows_the_syntax(om: Compile) -> None:
    diag = om("system S { }", base=True).one("E090")
    assert diag.hints == ('add: url env("NAME_URL", "http://127.0.0.1:8080")',)


def test_every_independent_system_error_is_reported(om: Compile) -> None:
    compiled = om('system S { url "ftp://x" timeout 0s permanent 200 }', base=True)
    assert sorted(d.code for d in compiled.errors) == ["E086", "E090", "E094"]


def test_queues(om: Compile) -> None:
    cat = om('/// Techs.\nqueue techs "Field technicians"\nqueue desk', base=True).catalog
    assert [(q.name, q.display_name, q.doc) for q in cat.queues] == [
        ("techs", "Field technicians", "Techs."),
        ("desk", None, None),
    ]


@pytest.mark.parametrize(
    ("base", "path"),
    [
        ("http://h/api/v1", "/../../admin"),  # a hand-edited IR's literal dots
        ("http://h/api/v1", "/x/.."),
        ("http://h/api/v1", "/%2e%2e/admin"),
        ("http://h/api/v1", "x"),  # /api/v1x: a sibling of the base's path
        ("http://h/api/v1", "/ok/./x"),
    ],
)
def test_a_joined_path_stays_below_the_base_path(base: str, path: str) -> None:
    with pytest.raises(UrlError, match="would leave the system's base URL"):
        join(base, path)


def test_a_joined_path_below_the_base_is_kept_as_written() -> None:
    assert join("http://h/api/v1", "/ports/a.b?x=1") == "http://h/api/v1/ports/a.b?x=1"
    assert join("http://h/api/v1/", "/p") == "http://h/api/v1//p"
    assert join("http://h", "/p") == "http://h/p"
