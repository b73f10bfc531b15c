"""The funnel configuration a user saves: selectors, every rule, and its error paths."""

from __future__ import annotations

import copy
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from funnels.config import (
    DEFAULT_CONFIG,
    NON_FIELD_ERRORS,
    Config,
    ConfigInvalid,
    default_config_dict,
)
from funnels.css import SelectorError, normalize_selector
from funnels.validation import load_config, validate_config

# Inputs are small: a generous deadline still catches a hang or a blow-up, without failing on
# a busy machine.
within_two_seconds = settings(deadline=2_000)

# -- CSS selectors ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "normalized"),
    [
        ("#buy", "#buy"),
        ("button", "button"),
        (".cta", ".cta"),
        ("*", "*"),
        ("*.cta", "*.cta"),
        ("a.cta.primary#go", "a.cta.primary#go"),
        ("[data-plan]", "[data-plan]"),
        ("button[data-plan=pro]", "button[data-plan=pro]"),
        ('[title="Buy now"]', '[title="Buy now"]'),
        ('[title="a  >  b, c"]', '[title="a  >  b, c"]'),
        ("[title='Buy now']", "[title='Buy now']"),
        ('[data-id="42"]', '[data-id="42"]'),
        ('[title=""]', '[title=""]'),
        ("[href^=https]", "[href^=https]"),
        ('[href$=".pdf"]', '[href$=".pdf"]'),
        ("[class*=btn]", "[class*=btn]"),
        ("[ data-x  =  y ]", "[data-x=y]"),
        ("#pricing a.cta", "#pricing a.cta"),
        ("ul>li", "ul > li"),
        ("h1 +  p", "h1 + p"),
        ("h1~p", "h1 ~ p"),
        ("nav   a", "nav a"),
        ("  #a ,#b,  #c  ", "#a, #b, #c"),
        ("li:first-child", "li:first-child"),
        ("li:LAST-CHILD", "li:last-child"),
        ("li:nth-child(3)", "li:nth-child(3)"),
        ("li:nth-child( 2n + 1 )", "li:nth-child(2n+1)"),
        ("li:nth-child(-n+3)", "li:nth-child(-n+3)"),
        ("li:nth-child(Odd)", "li:nth-child(odd)"),
        ("li:nth-child(even)", "li:nth-child(even)"),
        ("li:nth-child(n)", "li:nth-child(n)"),
        ("a:not( .hidden )", "a:not(.hidden)"),
        ("a:not([disabled])", "a:not([disabled])"),
        ("li:not(:first-child)", "li:not(:first-child)"),
        ("a:not(*)", "a:not(*)"),
        ("-webkit-box", "-webkit-box"),
        (".--token", ".--token"),
        ("._private", "._private"),
        ("#café", "#café"),
        ("div\n>\ta", "div > a"),
    ],
)
def test_valid_selectors_are_accepted_and_spaced_canonically(selector, normalized):
    assert normalize_selector(selector) == normalized


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        ("", "Enter a CSS selector"),
        ("   ", "Enter a CSS selector"),
        ("a" * 201, "at most 200"),
        ("a>" * 67 + "a", "once spaced out"),
        ("> a", "Expected a selector at position 1"),
        ("a >", "ends where a selector was expected"),
        ("a > > b", "Expected a selector"),
        ("a,,b", "Expected a selector at position 3"),
        ("a,", "ends where a selector"),
        ("#1st", "Expected an id"),
        (".9", "Expected a class name"),
        ("#", "ends where an id"),
        ("a.", "ends where a class name"),
        ("-1a", "Expected a selector"),
        ("a::before", "Pseudo-elements"),
        ("a:hover", "':hover' is not supported"),
        ("a:first-child(2)", "takes no argument"),
        ("li:nth-child", "needs an argument"),
        ("li:nth-child(2 n)", "the argument is a number"),
        ("li:nth-child(x)", "the argument is a number"),
        ("li:nth-child(2n+1", "never closed"),
        ("a:not", "needs a selector"),
        ("a:not()", "Expected a simple selector"),
        ("a:not(.a.b)", "one simple selector"),
        ("a:not(b c)", "one simple selector"),
        ("a:not(:not(b))", "cannot contain another"),
        ("[data-id=42]", "put the value in quotes"),
        ("[a~=b]", "'~=' is not supported"),
        ("[a|=b]", "'|=' is not supported"),
        ("[a!=b]", "Expected ']' or an operator"),
        ("[a=]", "Expected a value"),
        ("[=b]", "Expected an attribute name"),
        ("[a", "ends where ']' or an operator"),
        ("[a=b", "ends where ']'"),
        ("[a='b]", "never closed"),
        ('[a="b\\"c"]', "Backslash escapes"),
        ("[a=b i]", "Attribute flags"),
        (".md\\:flex", "Backslash escapes"),
        ("svg|rect", "Namespaces"),
        (".a*", "comes first"),
        ("[x]div", "comes first"),
        ("a)", "Unexpected ')' at position 2"),
        ("a{}", "Unexpected '{'"),
        ("a\u00a0b", "Unexpected"),
        ("a\x00", "Unexpected"),
        ('[a="x\ny"]', "inside quotes"),
    ],
)
def test_invalid_selectors_explain_the_problem(selector, message):
    with pytest.raises(SelectorError, match=re.escape(message)):
        normalize_selector(selector)


def test_selector_error_is_a_value_error():
    assert issubclass(SelectorError, ValueError)


def test_validating_a_long_selector_is_quick():
    with pytest.raises(SelectorError):
        normalize_selector("a " * 1_000_000)
    assert normalize_selector(" ".join(["a"] * 100)) == " ".join(["a"] * 100)


_CSS_ALPHABET = "ab1-_#.*[]=^$~+>,:()'\" \n\\|!"


@within_two_seconds
@given(st.one_of(st.text(max_size=250), st.text(alphabet=_CSS_ALPHABET, max_size=60)))
def test_selector_validator_never_crashes_and_normalizes_idempotently(text):
    try:
        normalized = normalize_selector(text)
    except SelectorError as error:
        assert str(error)
    else:
        assert normalize_selector(normalized) == normalized
        assert len(normalized) <= 200


_NAMES = st.sampled_from(["a", "div", "-x", "--y", "_z", "é", "li2"])
_SIMPLE = st.one_of(
    _NAMES,
    _NAMES.map(lambda name: f"#{name}"),
    _NAMES.map(lambda name: f".{name}"),
    _NAMES.map(lambda name: f"[{name}]"),
    st.tuples(_NAMES, st.sampled_from(["=", "^=", "$=", "*="]), _NAMES).map(
        lambda parts: f"[{parts[0]}{parts[1]}{parts[2]}]"
    ),
    st.tuples(_NAMES, st.text(alphabet="ab ,:", max_size=4)).map(
        lambda parts: f'[{parts[0]}="{parts[1]}"]'
    ),
    st.sampled_from([":first-child", ":last-child", ":nth-child(2n+1)", ":not(.x)"]),
)
_COMPOUND = st.tuples(
    st.sampled_from(["", "*", "a", "button"]), st.lists(_SIMPLE, min_size=1, max_size=3)
).map(lambda parts: parts[0] + "".join(part for part in parts[1] if part[0] in "#.[:") or "*")
_COMPLEX = st.tuples(_COMPOUND, st.lists(st.tuples(st.sampled_from(" >+~"), _COMPOUND), max_size=3))


def render(complex_selectors, *, space: str) -> str:
    """Selectors joined with ``space`` around combinators and commas; "" for canonical spacing."""
    rendered = []
    for first, rest in complex_selectors:
        parts = [first]
        for combinator, compound in rest:
            if combinator == " ":
                parts.append(space or " ")
            else:
                parts.append(f"{space}{combinator}{space}" if space else f" {combinator} ")
            parts.append(compound)
        rendered.append("".join(parts))
    return f",{space or ' '}".join(rendered)


@within_two_seconds
@given(
    st.lists(_COMPLEX, min_size=1, max_size=3),
    st.sampled_from(["\n", " ", "  ", "\t "]),
    st.booleans(),
)
def test_selectors_built_from_the_grammar_are_accepted_whatever_the_spacing(
    complex_selectors, space, tight
):
    canonical = render(complex_selectors, space="")
    spaced = render(complex_selectors, space="" if tight else space)
    if tight:
        spaced = spaced.replace(" > ", ">").replace(" + ", "+").replace(" ~ ", "~")
    if len(canonical) <= 200 and len(spaced) <= 200:
        assert normalize_selector(space + spaced + space) == canonical


# -- configurations --------------------------------------------------------------------------


def stage(name="Landing", kind="page", match="/", **extra):
    return {"name": name, "kind": kind, "match": match, **extra}


def config(*stages, **sections):
    return {"funnel": {"stages": list(stages) or [stage()]}, **sections}


def errors_of(data) -> dict[str, list[str]]:
    with pytest.raises(ConfigInvalid) as raised:
        validate_config(data)
    return raised.value.fields


def assert_error(data, path: str, fragment: str) -> None:
    errors = errors_of(data)
    assert path in errors, errors
    assert any(fragment in message for message in errors[path]), errors[path]


def test_default_config_has_an_empty_funnel_and_the_documented_shape():
    assert default_config_dict() == {
        "funnel": {"order": "ordered", "window_seconds": 604800, "stages": []},
        "campaigns": [],
        "elements": [],
    }
    assert DEFAULT_CONFIG.to_dict() == default_config_dict()
    assert default_config_dict() is not default_config_dict()


def test_default_config_loads_but_cannot_be_saved():
    assert load_config(default_config_dict()) == DEFAULT_CONFIG
    assert_error(default_config_dict(), "funnel.stages", "at least one stage")


def test_missing_funnel_means_no_stage_which_cannot_be_saved():
    assert_error({}, "funnel.stages", "at least one stage")
    assert_error({"funnel": {}}, "funnel.stages", "at least one stage")


def test_minimal_config_gets_every_default():
    result = validate_config({"funnel": {"stages": [stage()]}})
    assert isinstance(result, Config)
    assert result.to_dict() == {
        "funnel": {
            "order": "ordered",
            "window_seconds": 604800,
            "stages": [{"name": "Landing", "kind": "page", "match": "/"}],
        },
        "campaigns": [],
        "elements": [],
    }


def test_full_config_round_trips_through_to_dict():
    data = {
        "funnel": {
            "order": "strict",
            "window_seconds": 3600,
            "stages": [
                stage("Landing", "page", "/", query={"ref": "*"}),
                stage("Pricing", "page", "/pricing", query={}),
                stage("Buy", "click", "button.buy"),
                stage("Paid", "event", "billing:paid"),
            ],
        },
        "campaigns": [{"name": "Ads", "utm_source": "google", "utm_medium": "cpc"}],
        "elements": [{"name": "cta", "selector": "#cta"}],
    }
    result = validate_config(data)
    expected = copy.deepcopy(data)
    del expected["funnel"]["stages"][1]["query"]
    assert result.to_dict() == expected
    assert validate_config(result.to_dict()) == result


def test_config_invalid_is_a_value_error_carrying_the_field_errors():
    with pytest.raises(ValueError, match=r"funnel\.stages\.0\.kind") as raised:
        validate_config(config(stage(kind="video")))
    assert isinstance(raised.value, ConfigInvalid)
    assert list(raised.value.fields) == ["funnel.stages.0.kind"]


def test_config_invalid_survives_pickling_with_its_fields():
    with pytest.raises(ConfigInvalid) as raised:
        validate_config({})
    copied = pickle.loads(pickle.dumps(raised.value))
    assert copied.fields == raised.value.fields == {"funnel.stages": ["Add at least one stage."]}


@pytest.mark.parametrize("data", [None, [], "config", 3, True])
def test_config_that_is_not_an_object_is_a_non_field_error(data):
    assert errors_of(data) == {NON_FIELD_ERRORS: ["Must be an object."]}


@pytest.mark.parametrize(
    ("data", "path"),
    [
        ({**config(), "extra": 1}, "extra"),
        ({"funnel": {"stages": [stage()], "steps": []}}, "funnel.steps"),
        (config(stage(colour="red")), "funnel.stages.0.colour"),
        (config(campaigns=[{"name": "x", "utm_source": "a", "utm_id": "1"}]), "campaigns.0.utm_id"),
        (config(elements=[{"name": "x", "selector": "#x", "hover": True}]), "elements.0.hover"),
        ({**config(), 1: "x"}, "1"),
    ],
)
def test_unknown_fields_are_errors_at_their_path(data, path):
    assert_error(data, path, "Unknown field")


def test_many_unknown_fields_are_summed_up():
    data = {"funnel": {"stages": [stage()], **{f"k{i}": i for i in range(8)}}}
    errors = errors_of(data)
    assert [path for path in errors if path.startswith("funnel.k")] == [
        f"funnel.k{i}" for i in range(5)
    ]
    assert errors["funnel"] == ["3 more unknown fields."]


def test_a_huge_unknown_key_is_shortened_in_its_path():
    errors = errors_of({**config(), "k" * 10_000: 1})
    assert ("k" * 64 + "...") in errors


@pytest.mark.parametrize(
    ("data", "path", "fragment"),
    [
        ({"funnel": []}, "funnel", "Must be an object"),
        ({"funnel": {"stages": {}}}, "funnel.stages", "Must be a list"),
        ({"funnel": {"stages": None}}, "funnel.stages", "Must be a list"),
        (config(campaigns=None), "campaigns", "Must be a list"),
        (config(elements="#cta"), "elements", "Must be a list"),
        (config("Landing"), "funnel.stages.0", "Must be an object"),
        (config(campaigns=[["x"]]), "campaigns.0", "Must be an object"),
        (config(elements=[None]), "elements.0", "Must be an object"),
        (config(stage(name=5)), "funnel.stages.0.name", "Must be text"),
        (config(stage(match=["/"])), "funnel.stages.0.match", "Must be text"),
        (config(stage(kind=None)), "funnel.stages.0.kind", "Must be one of"),
        (config(stage(query=["a"])), "funnel.stages.0.query", "Must be an object"),
    ],
)
def test_wrong_types_are_errors_at_their_path(data, path, fragment):
    assert_error(data, path, fragment)


@pytest.mark.parametrize("order", ["ordered", "strict", "any"])
def test_each_funnel_order_is_accepted(order):
    assert validate_config({"funnel": {"order": order, "stages": [stage()]}}).funnel.order == order


@pytest.mark.parametrize("order", ["Ordered", "", None, 1, ["any"]])
def test_unknown_funnel_order_is_an_error(order):
    assert_error(
        {"funnel": {"order": order, "stages": [stage()]}}, "funnel.order", "Must be one of"
    )


@pytest.mark.parametrize("seconds", [60, 604800, 7776000])
def test_window_accepts_a_minute_to_ninety_days(seconds):
    data = {"funnel": {"window_seconds": seconds, "stages": [stage()]}}
    assert validate_config(data).funnel.window_seconds == seconds


@pytest.mark.parametrize(
    ("seconds", "fragment"),
    [
        (59, "between 60"),
        (7776001, "between 60"),
        (-1, "between 60"),
        (10**100, "between 60"),
        (True, "whole number"),
        (600.0, "whole number"),
        ("600", "whole number"),
        (None, "whole number"),
    ],
)
def test_window_outside_its_range_or_not_an_integer_is_an_error(seconds, fragment):
    data = {"funnel": {"window_seconds": seconds, "stages": [stage()]}}
    assert_error(data, "funnel.window_seconds", fragment)


def test_twenty_stages_are_fine_but_not_twenty_one():
    stages = [stage(f"Step {i}", "event", f"step{i}") for i in range(21)]
    assert len(validate_config(config(*stages[:20])).funnel.stages) == 20
    assert errors_of(config(*stages)) == {"funnel.stages": ["At most 20 entries."]}


def test_stage_names_are_trimmed():
    assert validate_config(config(stage(name="  Landing  "))).funnel.stages[0].name == "Landing"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [("", "blank"), ("   ", "blank"), ("x" * 65, "At most 64"), ("a\nb", "control characters")],
)
def test_stage_name_must_be_1_to_64_printable_characters(name, fragment):
    assert_error(config(stage(name=name)), "funnel.stages.0.name", fragment)


def test_stage_name_of_64_characters_is_fine():
    assert validate_config(config(stage(name="x" * 64))).funnel.stages[0].name == "x" * 64


def test_stage_names_are_unique_ignoring_case():
    data = config(stage("Landing", match="/"), stage(" landing", match="/other"))
    assert_error(data, "funnel.stages.1.name", "Another stage is already named 'Landing'")


@pytest.mark.parametrize("field", ["name", "kind", "match"])
def test_stage_fields_are_required(field):
    broken = stage()
    del broken[field]
    assert_error(config(broken), f"funnel.stages.0.{field}", "required")


def test_page_stage_match_must_be_a_valid_template():
    data = config(stage("A", match="/"), stage("B", match="/x"), stage("C", match="/a{b}"))
    assert_error(data, "funnel.stages.2.match", "placeholder must be a whole segment")


def test_page_stage_match_is_stored_trimmed():
    assert validate_config(config(stage(match=" /docs/* "))).funnel.stages[0].match == "/docs/*"


def test_click_stage_match_must_be_a_valid_selector():
    assert_error(config(stage(kind="click", match="a:hover")), "funnel.stages.0.match", ":hover")


def test_click_stage_match_is_stored_normalized():
    result = validate_config(config(stage(kind="click", match="ul>li ,a")))
    assert result.funnel.stages[0].match == "ul > li, a"


@pytest.mark.parametrize("name", ["signup", "billing:paid", "a.b-c_d", "X" * 64, " signup "])
def test_event_stage_match_is_an_event_name(name):
    assert validate_config(config(stage(kind="event", match=name))).funnel.stages[0].match == (
        name.strip()
    )


@pytest.mark.parametrize("name", ["", "sign up", "x" * 65, "café", "a/b", "a\nb"])
def test_event_stage_match_with_other_characters_is_an_error(name):
    assert_error(config(stage(kind="event", match=name)), "funnel.stages.0.match", "event name")


def test_match_is_not_checked_while_the_kind_is_unknown():
    errors = errors_of(config(stage(kind="scroll", match="anything")))
    assert list(errors) == ["funnel.stages.0.kind"]


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (stage("A", match="/p/{id}"), stage("B", match="/p/{slug}/")),
        (stage("A", match="/caf%C3%A9"), stage("B", match="/café")),
        (stage("A", kind="click", match="a>b"), stage("B", kind="click", match="a > b")),
        (stage("A", kind="event", match="signup"), stage("B", kind="event", match="signup")),
        (
            stage("A", match="/", query={"a": "1", "b": "*"}),
            stage("B", match="/", query={"b": "*", "a": "1"}),
        ),
    ],
)
def test_two_stages_may_not_match_the_same_thing(first, second):
    assert_error(config(first, second), "funnel.stages.1.match", "Stage 'A' already matches this")


@pytest.mark.parametrize(
    ("first", "second"),
    [
        (stage("A", match="/p/{id}"), stage("B", match="/p/*")),
        (stage("A", match="/pricing"), stage("B", match="/pricing", query={"plan": "pro"})),
        (
            stage("A", match="/pricing", query={"plan": "*"}),
            stage("B", match="/pricing", query={"plan": "pro"}),
        ),
        (stage("A", kind="event", match="signup"), stage("B", kind="event", match="Signup")),
    ],
)
def test_stages_matching_different_things_may_overlap(first, second):
    assert len(validate_config(config(first, second)).funnel.stages) == 2


def test_query_requirement_is_stored_trimmed_and_empty_query_is_left_out():
    result = validate_config(
        config(stage("A", query={" plan ": " pro "}), stage("B", match="/x", query={}))
    )
    assert result.to_dict()["funnel"]["stages"] == [
        {"name": "A", "kind": "page", "match": "/", "query": {"plan": "pro"}},
        {"name": "B", "kind": "page", "match": "/x"},
    ]


@pytest.mark.parametrize("kind", ["click", "event"])
def test_only_page_stages_may_require_query_parameters(kind):
    data = config(stage(kind=kind, match="signup", query={"a": "b"}))
    assert_error(data, "funnel.stages.0.query", "Only page stages")


@pytest.mark.parametrize(
    ("query", "path", "fragment"),
    [
        ({"plan": ""}, "funnel.stages.0.query.plan", "blank"),
        ({"plan": 1}, "funnel.stages.0.query.plan", "Must be text"),
        ({"plan": None}, "funnel.stages.0.query.plan", "Must be text"),
        ({"plan": "x" * 101}, "funnel.stages.0.query.plan", "At most 100"),
        ({" ": "x"}, "funnel.stages.0.query. ", "parameter name"),
        ({"p" * 65: "x"}, "funnel.stages.0.query." + "p" * 64 + "...", "parameter name"),
        ({"a": "1", " a": "2"}, "funnel.stages.0.query. a", "appears twice"),
        ({f"p{i}": "x" for i in range(11)}, "funnel.stages.0.query", "At most 10"),
    ],
)
def test_query_requirement_rules(query, path, fragment):
    assert_error(config(stage(query=query)), path, fragment)


def test_campaigns_are_stored_with_their_given_utm_values_trimmed():
    data = config(campaigns=[{"utm_medium": " email ", "name": " News ", "utm_source": "list"}])
    assert validate_config(data).to_dict()["campaigns"] == [
        {"name": "News", "utm_source": "list", "utm_medium": "email"}
    ]


def test_campaign_needs_a_name():
    assert_error(config(campaigns=[{"utm_source": "x"}]), "campaigns.0.name", "required")


def test_campaign_needs_at_least_one_utm_value():
    assert_error(config(campaigns=[{"name": "Ads"}]), "campaigns.0", "at least one of: utm_source")


@pytest.mark.parametrize(
    ("value", "fragment"),
    [("", "blank"), ("x" * 101, "At most 100"), (None, "Must be text"), (7, "Must be text")],
)
def test_utm_values_are_1_to_100_characters_of_text(value, fragment):
    data = config(campaigns=[{"name": "Ads", "utm_campaign": value}])
    assert_error(data, "campaigns.0.utm_campaign", fragment)


def test_campaign_names_are_unique_ignoring_case():
    campaigns = [{"name": "Ads", "utm_source": "a"}, {"name": "ADS", "utm_source": "b"}]
    assert_error(config(campaigns=campaigns), "campaigns.1.name", "already named 'Ads'")


def test_campaign_that_an_earlier_one_always_wins_over_is_an_error():
    campaigns = [
        {"name": "Google", "utm_source": "google"},
        {"name": "Google ads", "utm_source": "Google", "utm_medium": "cpc"},
    ]
    assert_error(config(campaigns=campaigns), "campaigns.1", "Never attributed: 'Google'")
    assert validate_config(config(campaigns=campaigns[::-1])).campaigns[1].name == "Google"


def test_fifty_campaigns_are_fine_but_not_fifty_one():
    campaigns = [{"name": f"c{i}", "utm_campaign": f"c{i}"} for i in range(51)]
    assert len(validate_config(config(campaigns=campaigns[:50])).campaigns) == 50
    assert errors_of(config(campaigns=campaigns)) == {"campaigns": ["At most 50 entries."]}


def test_elements_are_stored_with_normalized_selectors():
    data = config(elements=[{"name": " cta ", "selector": "#pricing>a.cta"}])
    assert validate_config(data).to_dict()["elements"] == [
        {"name": "cta", "selector": "#pricing > a.cta"}
    ]


def test_element_selector_must_be_valid():
    elements = [{"name": "a", "selector": "#a"}, {"name": "b", "selector": "a::after"}]
    assert_error(config(elements=elements), "elements.1.selector", "Pseudo-elements")


@pytest.mark.parametrize(
    ("element", "path", "fragment"),
    [
        ({"selector": "#a"}, "elements.0.name", "required"),
        ({"name": "a"}, "elements.0.selector", "required"),
        ({"name": "a", "selector": 3}, "elements.0.selector", "must be text"),
        ({"name": "", "selector": "#a"}, "elements.0.name", "blank"),
    ],
)
def test_element_needs_a_name_and_a_selector(element, path, fragment):
    assert_error(config(elements=[element]), path, fragment)


def test_element_names_are_unique_ignoring_case():
    elements = [{"name": "CTA", "selector": "#a"}, {"name": "cta", "selector": "#b"}]
    assert_error(config(elements=elements), "elements.1.name", "already named 'CTA'")


def test_two_elements_may_not_track_the_same_selector():
    elements = [{"name": "a", "selector": "a>b"}, {"name": "b", "selector": "a > b"}]
    assert_error(config(elements=elements), "elements.1.selector", "'a' already tracks")


def test_fifty_elements_are_fine_but_not_fifty_one():
    elements = [{"name": f"e{i}", "selector": f"#e{i}"} for i in range(51)]
    assert len(validate_config(config(elements=elements[:50])).elements) == 50
    assert errors_of(config(elements=elements)) == {"elements": ["At most 50 entries."]}


def test_errors_of_every_section_are_reported_together():
    data = {
        "funnel": {"order": "random", "stages": [stage(kind="click", match="")]},
        "campaigns": [{"name": "x"}],
        "elements": [{"name": "e", "selector": "!"}],
    }
    assert set(errors_of(data)) == {
        "funnel.order",
        "funnel.stages.0.match",
        "campaigns.0",
        "elements.0.selector",
    }


def test_validation_does_not_change_its_input():
    data = config(
        stage(name=" A ", query={" a ": "b"}), elements=[{"name": "e", "selector": "a>b"}]
    )
    before = copy.deepcopy(data)
    validate_config(data)
    assert data == before


# -- any input -------------------------------------------------------------------------------

_FIELD_NAMES = [
    "funnel", "campaigns", "elements", "order", "window_seconds", "stages", "name", "kind",
    "match", "query", "selector", "utm_source", "utm_medium", "utm_campaign", "utm_term",
    "utm_content",
]  # fmt: skip
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=30),
    st.sampled_from(["page", "click", "event", "/", "/a/{b}/*", "#a > b", "signup", "*", "any"]),
)
_JSON_LIKE = st.recursive(
    _SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=5),
        st.dictionaries(
            st.one_of(st.sampled_from(_FIELD_NAMES), st.text(max_size=10)), children, max_size=6
        ),
    ),
    max_leaves=40,
)


def _outcome(data):
    try:
        return validate_config(data)
    except ConfigInvalid as error:
        assert error.fields
        assert all(isinstance(path, str) and messages for path, messages in error.fields.items())
        return None


@within_two_seconds
@given(_JSON_LIKE)
def test_validate_config_never_crashes_on_any_json_like_value(data):
    result = _outcome(data)
    if result is not None:
        assert validate_config(result.to_dict()) == result


_NAMES_OR_NOT = st.one_of(
    st.text(alphabet="abcdefghAB ", min_size=1, max_size=6), st.text(max_size=4)
)
_STAGES = st.one_of(
    st.fixed_dictionaries(
        {
            "name": _NAMES_OR_NOT,
            "kind": st.just("page"),
            "match": st.sampled_from(["/", "/a", "/a/", "/{x}", "/a/*", "a", "/a{b}"]),
        },
        optional={
            "query": st.dictionaries(st.sampled_from(["a", "b"]), st.sampled_from(["1", "*", ""]))
        },
    ),
    st.fixed_dictionaries(
        {
            "name": _NAMES_OR_NOT,
            "kind": st.sampled_from(["click", "event"]),
            "match": st.sampled_from(["a>b", "a > b", "signup", "#x", "a:hover", "e v"]),
        }
    ),
)
_CONFIG_SHAPED = st.fixed_dictionaries(
    {"funnel": st.fixed_dictionaries({"stages": st.lists(_STAGES, min_size=1, max_size=4)})},
    optional={
        "campaigns": st.lists(
            st.fixed_dictionaries(
                {"name": _NAMES_OR_NOT},
                optional={
                    "utm_source": st.sampled_from(["a", "A", "b"]),
                    "utm_term": st.one_of(st.sampled_from(["t", "u"]), _SCALARS),
                },
            ),
            max_size=3,
        ),
        "elements": st.lists(
            st.fixed_dictionaries(
                {
                    "name": _NAMES_OR_NOT,
                    "selector": st.one_of(st.sampled_from(["#a", "a>b", ".c"]), _SCALARS),
                }
            ),
            max_size=3,
        ),
    },
)


@within_two_seconds
@given(_CONFIG_SHAPED)
def test_valid_configs_round_trip_and_invalid_ones_say_where(data):
    result = _outcome(data)
    if result is not None:
        assert validate_config(result.to_dict()) == result
        assert load_config(result.to_dict()) == result
