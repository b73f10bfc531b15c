"""Path templates and the compiled configuration the ingest path asks about every event."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnels.config import DEFAULT_CONFIG, UTM_PARAMS, Campaign, Config, ConfigInvalid
from funnels.matching import CompiledConfig
from funnels.templates import TemplateError, compile_template, decoded_segments

# Inputs are small: a generous deadline still catches a hang or a blow-up, without failing on
# a busy machine.
within_two_seconds = settings(deadline=2_000)

# -- templates -----------------------------------------------------------------------------


def matches(template: str, path: str) -> bool:
    return compile_template(template).matches(path)


def test_exact_template_matches_only_its_path():
    assert matches("/checkout", "/checkout")
    assert not matches("/checkout", "/checkout/done")
    assert not matches("/checkout", "/checkou")
    assert not matches("/checkout", "/")


def test_templates_ignore_one_trailing_slash_on_either_side():
    assert matches("/checkout", "/checkout/")
    assert matches("/checkout/", "/checkout")
    assert matches("/checkout/", "/checkout/")


def test_paths_are_case_sensitive():
    assert not matches("/checkout", "/Checkout")


def test_root_template_matches_only_the_root():
    assert matches("/", "/")
    assert matches("/", "")
    assert not matches("/", "/a")
    assert not matches("/", "//")


def test_placeholder_matches_exactly_one_segment():
    template = compile_template("/products/{id}")
    assert template.matches("/products/42")
    assert template.matches("/products/42/")
    assert not template.matches("/products")
    assert not template.matches("/products/")
    assert not template.matches("/products/42/reviews")


def test_placeholder_does_not_match_an_empty_segment():
    assert not matches("/a/{x}/b", "/a//b")


def test_placeholders_combine_with_literals():
    template = compile_template("/shops/{shop}/products/{id}/reviews")
    assert template.matches("/shops/acme/products/7/reviews")
    assert not template.matches("/shops/acme/items/7/reviews")


def test_trailing_wildcard_matches_any_rest_including_nothing():
    template = compile_template("/docs/*")
    for path in ("/docs", "/docs/", "/docs/a", "/docs/a/b/c", "/docs//x"):
        assert template.matches(path), path
    assert not template.matches("/docsx")
    assert not template.matches("/doc")
    assert not template.matches("/")


def test_lone_wildcard_matches_every_path():
    template = compile_template("/*")
    for path in ("/", "", "/a", "/a/b/"):
        assert template.matches(path)


def test_segments_are_compared_percent_decoded():
    assert matches("/caf%C3%A9", "/café")
    assert matches("/café", "/caf%C3%A9")
    assert matches("/my%20page", "/my%20page/")
    assert matches("/products/{id}", "/products/%41")


def test_an_encoded_slash_stays_inside_its_segment():
    assert matches("/files/{name}", "/files/a%2Fb")
    assert not matches("/files/a/b", "/files/a%2Fb")
    assert matches("/files/a%2Fb", "/files/a%2fb")


def test_invalid_utf8_escapes_do_not_match_each_other():
    assert not matches("/x%FF", "/x%FE")
    assert matches("/x%FF", "/x%ff")


def test_a_query_or_fragment_after_the_path_is_ignored():
    assert matches("/checkout", "/checkout?step=2")
    assert matches("/checkout", "/checkout#top")


def test_decoded_segments_split_before_decoding():
    assert decoded_segments("/a%2Fb/c/") == ("a/b", "c")
    assert decoded_segments("/") == ()
    assert decoded_segments("/a//b") == ("a", "", "b")


def test_template_text_is_trimmed():
    assert compile_template("  /checkout ").text == "/checkout"


def test_spellings_of_the_same_template_share_a_key():
    assert compile_template("/p/{id}/").key == compile_template("/p/{slug}").key
    assert compile_template("/p/%41").key == compile_template("/p/A").key
    assert compile_template("/p/*").key != compile_template("/p/{id}").key


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("", "Enter a path"),
        ("   ", "Enter a path"),
        ("checkout", "starts with '/'"),
        ("/" + "a" * 200, "at most 200"),
        ("/a/*/b", "only allowed as the last segment"),
        ("/a*", "whole segment"),
        ("/a/*.html", "whole segment"),
        ("/a{b}", "placeholder must be a whole segment"),
        ("/a/{b}c", "placeholder must be a whole segment"),
        ("/a/{b", "placeholder must be a whole segment"),
        ("/a/}", "placeholder must be a whole segment"),
        ("/a/{}", "needs a name"),
        ("/a/{1x}", "placeholder name"),
        ("/a/{a b}", "Unexpected ' '"),
        ("/a/{x}/{x}", "appears twice"),
        ("/a//b", "empty segment"),
        ("//", "empty segment"),
        ("/a//", "empty segment"),
        ("/a?b=1", "query"),
        ("/a#top", "'#"),
        ("/a b", "%20"),
        ("/a\tb", "%20"),
        ("/a\x00", "Unexpected"),
        ("/100%", "escape"),
        ("/a%zz", "escape"),
    ],
)
def test_invalid_templates_explain_the_problem(template, message):
    with pytest.raises(TemplateError, match=re.escape(message)):
        compile_template(template)


def test_template_error_is_a_value_error():
    assert issubclass(TemplateError, ValueError)


def test_matching_a_huge_path_against_placeholders_is_quick():
    template = compile_template("/" + "/".join(f"{{p{i}}}" for i in range(30)) + "/*")
    path = "/x" * 200_000
    assert template.matches(path)
    assert not template.matches("/x" * 29)


@within_two_seconds
@given(st.one_of(st.text(max_size=300), st.text(alphabet="/{}*%ab?# 0F", max_size=40)))
def test_template_compiler_either_compiles_or_raises_template_error(text):
    try:
        template = compile_template(text)
    except TemplateError as error:
        assert str(error)
    else:
        assert template.matches(template.text)


# A template as segments: ("lit", text) or ("var", name); plus whether it ends with "*".
_LITERALS = st.text(alphabet="ab", min_size=1, max_size=3)
_SPEC_SEGMENT = st.one_of(_LITERALS.map(lambda text: ("lit", text)), st.just(("var", "")))
_SPECS = st.tuples(st.lists(_SPEC_SEGMENT, max_size=5), st.booleans(), st.booleans())
_PATHS = st.builds(
    lambda segments, slash: "/" + "/".join(segments) + ("/" if slash and segments else ""),
    st.lists(st.text(alphabet="ab", max_size=3), max_size=7),
    st.booleans(),
)


def template_text(segments, rest, slash) -> str:
    parts = [text if kind == "lit" else f"{{v{i}}}" for i, (kind, text) in enumerate(segments)]
    if rest:
        parts.append("*")
    return "/" + "/".join(parts) + ("/" if slash and parts else "")


def reference_matches(segments, rest, path) -> bool:
    """A regular expression over the whole path: a different way to say the same thing."""
    pattern = "".join(
        "/" + (re.escape(text) if kind == "lit" else "[^/]+") for kind, text in segments
    )
    if rest:
        pattern += "(/.*)?"
    if path.endswith("/"):
        path = path[:-1]
    return re.fullmatch(pattern, path) is not None


@within_two_seconds
@given(_SPECS, _PATHS)
def test_compiled_templates_agree_with_a_brute_force_reference(spec, path):
    segments, rest, slash = spec
    template = compile_template(template_text(segments, rest, slash))
    assert template.matches(path) == reference_matches(segments, rest, path)


@within_two_seconds
@given(_SPECS, st.data())
def test_compiled_templates_match_every_path_they_describe(spec, data):
    segments, rest, slash = spec
    filled = [
        text if kind == "lit" else data.draw(st.text(alphabet="ab.-", min_size=1, max_size=4))
        for kind, text in segments
    ]
    if rest:
        filled += data.draw(st.lists(st.text(alphabet="ab", max_size=3), max_size=3))
    path = "/" + "/".join(filled)
    template = compile_template(template_text(segments, rest, slash))
    assert template.matches(path)
    assert reference_matches(segments, rest, path)
    encoded = "/" + "/".join(quote(segment, safe="") for segment in filled)
    assert template.matches(encoded)


@within_two_seconds
@given(_SPECS, _PATHS)
def test_a_path_with_an_extra_segment_matches_only_wildcard_templates(spec, path):
    segments, rest, slash = spec
    template = compile_template(template_text(segments, rest, slash))
    if template.matches(path):
        assert template.matches(path.rstrip("/") + "/extra") == rest


# -- the compiled configuration --------------------------------------------------------------


def compiled(*stages: dict, campaigns=(), elements=()) -> CompiledConfig:
    return CompiledConfig.from_dict(
        {
            "funnel": {"stages": list(stages)},
            "campaigns": list(campaigns),
            "elements": list(elements),
        }
    )


def page(name: str, match: str, **query: str) -> dict:
    stage = {"name": name, "kind": "page", "match": match}
    if query:
        stage["query"] = query
    return stage


def test_pageview_reaches_every_page_stage_its_url_matches_in_stage_order():
    config = compiled(
        page("Docs", "/docs/*"),
        page("Home", "/"),
        page("Guide", "/docs/{section}"),
        page("Exact", "/docs/setup"),
    )
    assert config.stages_for_pageview("https://acme.test/docs/setup") == [0, 2, 3]
    assert config.stages_for_pageview("https://acme.test/") == [1]
    assert config.stages_for_pageview("https://acme.test") == [1]
    assert config.stages_for_pageview("https://acme.test/pricing") == []


def test_pageview_ignores_other_stage_kinds():
    config = compiled(
        {"name": "Buy", "kind": "click", "match": "#buy"},
        {"name": "Signup", "kind": "event", "match": "signup"},
    )
    assert config.stages_for_pageview("https://acme.test/signup") == []


def test_query_requirement_needs_the_exact_value():
    config = compiled(page("Pro", "/pricing", plan="pro"))
    assert config.stages_for_pageview("https://acme.test/pricing?plan=pro") == [0]
    assert config.stages_for_pageview("https://acme.test/pricing/?ref=x&plan=pro") == [0]
    assert config.stages_for_pageview("https://acme.test/pricing?plan=Pro") == []
    assert config.stages_for_pageview("https://acme.test/pricing?plan=free") == []
    assert config.stages_for_pageview("https://acme.test/pricing") == []


def test_query_requirement_compares_decoded_values_and_any_repeated_value():
    config = compiled(page("Sale", "/shop", promo="spring sale"))
    assert config.stages_for_pageview("https://acme.test/shop?promo=spring%20sale") == [0]
    assert config.stages_for_pageview("https://acme.test/shop?promo=spring+sale") == [0]
    assert config.stages_for_pageview("https://acme.test/shop?promo=x&promo=spring+sale") == [0]


def test_star_query_value_accepts_any_value_even_blank():
    config = compiled(page("Referred", "/", ref="*"))
    assert config.stages_for_pageview("https://acme.test/?ref=newsletter") == [0]
    assert config.stages_for_pageview("https://acme.test/?ref=") == [0]
    assert config.stages_for_pageview("https://acme.test/?other=1") == []


def test_all_query_requirements_of_a_stage_must_hold():
    config = compiled(page("Both", "/", a="1", b="*"))
    assert config.stages_for_pageview("https://acme.test/?a=1&b=2") == [0]
    assert config.stages_for_pageview("https://acme.test/?a=1") == []


def test_stages_with_and_without_query_on_one_path_are_told_apart():
    config = compiled(page("Pricing", "/pricing"), page("Pro", "/pricing", plan="pro"))
    assert config.stages_for_pageview("https://acme.test/pricing?plan=pro") == [0, 1]
    assert config.stages_for_pageview("https://acme.test/pricing") == [0]


def test_pageview_of_an_unparseable_url_reaches_no_stage():
    config = compiled(page("All", "/*"))
    assert config.stages_for_pageview("http://[::1/x") == []


def test_pageview_decodes_the_url_path():
    config = compiled(page("Café", "/café"))
    assert config.stages_for_pageview("https://acme.test/caf%C3%A9?x=1#top") == [0]


def test_click_reaches_stages_by_selector_as_sent_in_the_hello():
    config = compiled(
        {"name": "Buy", "kind": "click", "match": "button.buy>span"},
        page("Home", "/"),
        {"name": "Plan", "kind": "click", "match": "[data-plan=pro]"},
    )
    assert config.stages_for_click("button.buy > span") == [0]
    assert config.stages_for_click("[data-plan=pro]") == [2]
    assert config.stages_for_click("#unknown") == []


def test_click_with_a_differently_spaced_selector_still_reaches_its_stage():
    config = compiled({"name": "Buy", "kind": "click", "match": "button.buy > span"})
    assert config.stages_for_click("button.buy>span") == [0]
    assert config.stages_for_click("not a [valid selector") == []
    assert config.stages_for_click("x" * 10_000) == []


def test_click_on_a_tracked_element_reaches_no_stage():
    config = compiled(page("Home", "/"), elements=[{"name": "cta", "selector": "#cta"}])
    assert config.stages_for_click("#cta") == []


def test_event_reaches_stages_by_exact_name():
    config = compiled(
        {"name": "Signup", "kind": "event", "match": "signup"},
        {"name": "Paid", "kind": "event", "match": "billing:paid"},
    )
    assert config.stages_for_event("signup") == [0]
    assert config.stages_for_event("billing:paid") == [1]
    assert config.stages_for_event("Signup") == []
    assert config.stages_for_event("other") == []


def test_returned_stage_lists_are_fresh_copies():
    config = compiled({"name": "Signup", "kind": "event", "match": "signup"})
    config.stages_for_event("signup").append(99)
    assert config.stages_for_event("signup") == [0]


CAMPAIGNS = [
    {"name": "Spring ads", "utm_source": "google", "utm_campaign": "Spring Sale"},
    {"name": "Google", "utm_source": "Google"},
    {"name": "Newsletter", "utm_medium": "email"},
]


def test_campaign_is_the_first_whose_utm_values_all_match():
    config = compiled(page("Home", "/"), campaigns=CAMPAIGNS)
    url = "https://acme.test/?utm_source=google&utm_campaign=spring+sale"
    assert config.campaign_for(url) == "Spring ads"
    assert config.campaign_for("https://acme.test/?utm_source=google") == "Google"
    assert config.campaign_for("https://acme.test/?utm_medium=email&utm_source=x") == "Newsletter"


def test_campaign_values_compare_ignoring_case_and_encoding():
    config = compiled(page("Home", "/"), campaigns=CAMPAIGNS)
    url = "https://acme.test/p?UTM_X=1&utm_source=GOOGLE&utm_campaign=SPRING%20sale"
    assert config.campaign_for(url) == "Spring ads"


def test_campaign_needs_every_value_it_gives():
    config = compiled(page("Home", "/"), campaigns=[CAMPAIGNS[0]])
    assert config.campaign_for("https://acme.test/?utm_source=google") is None
    assert config.campaign_for("https://acme.test/?utm_campaign=spring+sale") is None


def test_url_without_utm_parameters_has_no_campaign():
    config = compiled(page("Home", "/"), campaigns=CAMPAIGNS)
    assert config.campaign_for("https://acme.test/?source=google") is None
    assert config.campaign_for("https://acme.test/") is None
    assert config.campaign_for("http://[::1/?utm_source=google") is None


def test_first_value_of_a_repeated_utm_parameter_counts():
    config = compiled(page("Home", "/"), campaigns=CAMPAIGNS)
    assert config.campaign_for("https://acme.test/?utm_source=google&utm_source=bing") == "Google"
    assert config.campaign_for("https://acme.test/?utm_source=bing&utm_source=google") is None


_UTM_VALUES = st.sampled_from(["a", "A", "b"])
_CAMPAIGN_UTMS = st.dictionaries(st.sampled_from(UTM_PARAMS[:3]), _UTM_VALUES, min_size=1)


@within_two_seconds
@given(
    st.lists(_CAMPAIGN_UTMS, max_size=6), st.dictionaries(st.sampled_from(UTM_PARAMS), _UTM_VALUES)
)
def test_campaign_is_the_first_that_fits_like_a_plain_scan_says(campaigns, url_params):
    utm = [tuple((p, values[p]) for p in UTM_PARAMS if p in values) for values in campaigns]
    config = Config(
        funnel=DEFAULT_CONFIG.funnel,
        campaigns=tuple(Campaign(name=f"c{i}", utm=pairs) for i, pairs in enumerate(utm)),
    )
    url = "https://acme.test/?" + urlencode(url_params)
    expected = next(
        (
            f"c{i}"
            for i, values in enumerate(campaigns)
            if all(url_params.get(p, "").lower() == v.lower() for p, v in values.items())
        ),
        None,
    )
    assert CompiledConfig(config=config).campaign_for(url) == expected


def test_hello_lists_click_stage_and_element_selectors_once():
    config = compiled(
        {"name": "Buy", "kind": "click", "match": "#buy"},
        {"name": "Plan", "kind": "click", "match": "a>b"},
        elements=[
            {"name": "buy button", "selector": "#buy"},
            {"name": "cta", "selector": "#pricing  a.cta"},
        ],
    )
    assert config.click_selectors() == ["#buy", "a > b", "#pricing a.cta"]
    assert config.elements() == [
        {"name": "buy button", "selector": "#buy"},
        {"name": "cta", "selector": "#pricing a.cta"},
    ]
    assert config.element_names() == {"buy button", "cta"}
    assert config.has_element("cta")
    assert not config.has_element("CTA")


def test_default_config_compiles_to_nothing_to_match():
    config = CompiledConfig.from_dict(DEFAULT_CONFIG.to_dict())
    assert config.stages_for_pageview("https://acme.test/") == []
    assert config.campaign_for("https://acme.test/?utm_source=x") is None
    assert config.click_selectors() == []
    assert config.elements() == []
    assert config.config == DEFAULT_CONFIG


def test_compiling_a_broken_stored_config_raises_config_invalid():
    with pytest.raises(ConfigInvalid):
        CompiledConfig.from_dict({"funnel": {"stages": [{"name": "x"}]}})


def test_config_logic_imports_without_django():
    code = (
        "import sys; import funnels.matching, funnels.validation, funnels.css, "
        "funnels.templates; assert 'django' not in sys.modules"
    )
    root = Path(__file__).resolve().parent.parent
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    subprocess.run([sys.executable, "-c", code], cwd=root, check=True, env=env)
