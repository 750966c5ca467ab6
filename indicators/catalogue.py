"""The indicator catalogue of MIIT's 千兆城市评价指标: what is entered, what is computed, in which unit.

This is the definition the code computes with. `load_reference` copies names, units and formulas into
the `Indicator` table so that people can read them in the admin and thresholds can point at them;
the formulas themselves are not data, they are the standard.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    SHARE = "share"  # part ÷ whole × 100, in %
    PER_10K = "per_10k"  # count ÷ (population ÷ 10 000)
    COUNT = "count"  # the count itself
    CASES = "cases"  # the number of application cases


class Category(StrEnum):
    NETWORK = "network"  # 网络建设
    USERS = "users"  # 用户发展
    APPLICATIONS = "applications"  # 应用创新


@dataclass(frozen=True)
class InputSpec:
    """One raw number typed into the survey form."""

    name: str
    label_zh: str
    label_en: str
    unit_zh: str
    unit_en: str
    # The largest value that is physically possible; anything above is a typing error.
    maximum: int


@dataclass(frozen=True)
class IndicatorSpec:
    code: str
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    kind: Kind
    category: Category
    numerator: str | None
    denominator: str | None
    decimals: int
    formula_zh: str
    formula_en: str
    # Whether the value may exceed 100 % (gigabit coverage can: capacity may exceed households).
    may_exceed_100: bool = False
    # Above this the value is implausible whatever the city (a typing or unit error).
    plausible_max: float | None = None

    @property
    def inputs(self) -> tuple[str, ...]:
        return tuple(name for name in (self.numerator, self.denominator) if name)


MAX_HOUSEHOLDS = 20_000_000
MAX_POPULATION = 40_000_000  # 重庆, the largest unit, has about 32 million residents
MAX_USERS = 60_000_000

INPUTS: tuple[InputSpec, ...] = (
    InputSpec(
        "gigabit_capable_households",
        "具备千兆光纤接入能力的家庭数",
        "Households able to take gigabit fibre",
        "户",
        "households",
        MAX_HOUSEHOLDS * 3,
    ),
    InputSpec("urban_households", "城市家庭总户数", "Urban households", "户", "households", MAX_HOUSEHOLDS),
    InputSpec("pon_10g_ports", "10G-PON及以上端口数", "10G-PON (and above) ports", "个", "ports", 10_000_000),
    InputSpec("pon_ports_total", "PON端口总数", "All PON ports", "个", "ports", 20_000_000),
    InputSpec("key_sites_5g_covered", "5G网络通达的重点场所数", "Key sites reached by 5G", "个", "sites", 100_000),
    InputSpec("key_sites_total", "重点场所总数", "Key sites", "个", "sites", 100_000),
    InputSpec("bs5g_count", "5G基站数", "5G base stations", "个", "stations", 1_000_000),
    InputSpec("resident_population", "常住人口数", "Resident population", "人", "people", MAX_POPULATION),
    InputSpec(
        "users_500m_plus",
        "500Mbps及以上固定宽带用户数",
        "Fixed-broadband users at 500 Mbps or more",
        "户",
        "users",
        MAX_USERS,
    ),
    InputSpec("broadband_users_total", "固定宽带用户总数", "All fixed-broadband users", "户", "users", MAX_USERS),
    InputSpec(
        "users_1000m",
        "1000Mbps及以上固定宽带用户数",
        "Fixed-broadband users at 1000 Mbps or more",
        "户",
        "users",
        MAX_USERS,
    ),
    InputSpec("users_5g", "5G用户数", "5G users", "户", "users", MAX_USERS * 2),
    InputSpec("mobile_users_total", "移动电话用户总数", "Mobile phone users", "户", "users", MAX_USERS * 2),
)
INPUT_NAMES: tuple[str, ...] = tuple(spec.name for spec in INPUTS)
INPUTS_BY_NAME = {spec.name: spec for spec in INPUTS}

INDICATORS: tuple[IndicatorSpec, ...] = (
    IndicatorSpec(
        "fiber_gigabit_coverage",
        "城市家庭千兆光纤网络覆盖率",
        "Urban household gigabit fibre coverage",
        "%",
        "%",
        Kind.SHARE,
        Category.NETWORK,
        "gigabit_capable_households",
        "urban_households",
        1,
        "具备千兆光纤接入能力的家庭数 ÷ 城市家庭总户数 × 100%（可超过100%）",
        "Households able to take gigabit fibre ÷ urban households × 100 (may exceed 100)",
        may_exceed_100=True,
        plausible_max=300,
    ),
    IndicatorSpec(
        "pon_10g_share",
        "城市10G-PON端口占比",
        "10G-PON port share",
        "%",
        "%",
        Kind.SHARE,
        Category.NETWORK,
        "pon_10g_ports",
        "pon_ports_total",
        1,
        "10G-PON及以上端口数 ÷ PON端口总数 × 100%",
        "10G-PON (and above) ports ÷ all PON ports × 100",
    ),
    IndicatorSpec(
        "key_sites_5g_reach",
        "重点场所5G网络通达率",
        "5G reach of key sites",
        "%",
        "%",
        Kind.SHARE,
        Category.NETWORK,
        "key_sites_5g_covered",
        "key_sites_total",
        1,
        "5G网络通达的重点场所数 ÷ 重点场所总数 × 100%",
        "Key sites reached by 5G ÷ key sites × 100",
    ),
    IndicatorSpec(
        "bs5g_per_10k",
        "每万人拥有5G基站数",
        "5G base stations per 10,000 people",
        "个/万人",
        "per 10k people",
        Kind.PER_10K,
        Category.NETWORK,
        "bs5g_count",
        "resident_population",
        1,
        "5G基站数 ÷（常住人口数 ÷ 10000）",
        "5G base stations ÷ (resident population ÷ 10,000)",
        plausible_max=150,
    ),
    IndicatorSpec(
        "users_500m_share",
        "500Mbps及以上用户占比",
        "Share of users at 500 Mbps or more",
        "%",
        "%",
        Kind.SHARE,
        Category.USERS,
        "users_500m_plus",
        "broadband_users_total",
        1,
        "500Mbps及以上固定宽带用户数 ÷ 固定宽带用户总数 × 100%",
        "Fixed-broadband users at ≥500 Mbps ÷ all fixed-broadband users × 100",
    ),
    IndicatorSpec(
        "users_1000m",
        "1000Mbps用户数",
        "Users at 1000 Mbps",
        "户",
        "users",
        Kind.COUNT,
        Category.USERS,
        "users_1000m",
        None,
        0,
        "1000Mbps及以上固定宽带用户数",
        "Fixed-broadband users at ≥1000 Mbps",
    ),
    IndicatorSpec(
        "users_5g_share",
        "5G用户占比",
        "5G user share",
        "%",
        "%",
        Kind.SHARE,
        Category.USERS,
        "users_5g",
        "mobile_users_total",
        1,
        "5G用户数 ÷ 移动电话用户总数 × 100%",
        "5G users ÷ mobile phone users × 100",
    ),
)
INDICATORS_BY_CODE = {spec.code: spec for spec in INDICATORS}
INDICATOR_CODES: tuple[str, ...] = tuple(spec.code for spec in INDICATORS)

# The application-case requirement is scored like an indicator: at least N cases.
APPLICATIONS = IndicatorSpec(
    "applications",
    "“双千兆”应用创新案例数",
    "“Dual gigabit” application cases",
    "个",
    "cases",
    Kind.CASES,
    Category.APPLICATIONS,
    None,
    None,
    0,
    "信息消费、垂直行业、社会民生、数字政府等领域的协同应用案例数（应不少于5个）",
    "Collaborative application cases in consumer, industry, livelihood and government domains (at least 5)",
)
CATALOGUE: tuple[IndicatorSpec, ...] = (*INDICATORS, APPLICATIONS)
CATALOGUE_BY_CODE = {spec.code: spec for spec in CATALOGUE}


@dataclass(frozen=True)
class KeySiteCategory:
    key: str
    label_zh: str
    label_en: str


# 重点场所: the form keeps a count per category; key_sites_total and key_sites_5g_covered are sums.
KEY_SITE_CATEGORIES: tuple[KeySiteCategory, ...] = (
    KeySiteCategory("hospital", "三级及以上市属公立医院", "Municipal public hospitals, grade III and above"),
    KeySiteCategory("university", "重点高校", "Key universities"),
    KeySiteCategory("tourism", "重点文旅区域", "Key cultural-tourism areas"),
    KeySiteCategory("railway", "二等及以上高铁站", "Passenger railway stations, class II and above"),
    KeySiteCategory("airport", "干线机场", "Trunk airports"),
    KeySiteCategory("road", "重点道路", "Key roads"),
)


def key_site_field(category: str, part: str) -> str:
    """The model field of one key-site count, e.g. ks_hospital_total / ks_hospital_covered."""
    return f"ks_{category}_{part}"


KEY_SITE_FIELDS: tuple[str, ...] = tuple(
    key_site_field(category.key, part) for category in KEY_SITE_CATEGORIES for part in ("total", "covered")
)

# The 2021 threshold set is provisional: the official annex table was not at hand, the values come
# from public reports and are to be confirmed by ministry staff (PRODUCT.md).
PROVISIONAL_2021_THRESHOLDS: dict[str, str] = {
    "fiber_gigabit_coverage": "80",
    "pon_10g_share": "30",
    "key_sites_5g_reach": "95",
    "bs5g_per_10k": "12",
    "users_500m_share": "10",
    "users_1000m": "50000",
    "users_5g_share": "25",
    "applications": "5",
}

CASE_DOMAINS: tuple[tuple[str, str, str], ...] = (
    ("consumer", "信息消费", "Information consumption"),
    ("industry", "垂直行业", "Vertical industries"),
    ("livelihood", "社会民生", "Public services and livelihood"),
    ("government", "数字政府", "Digital government"),
    ("other", "其他", "Other"),
)
MIN_CASES = 5
MAX_CASES = 50  # a form holds at most this many cases (and the Excel template as many rows)


@dataclass(frozen=True)
class OperatorSpec:
    code: str
    name_zh: str
    name_en: str


# The four basic telecom operators (基础电信企业) whose provincial branches report per city (issue 13).
OPERATORS: tuple[OperatorSpec, ...] = (
    OperatorSpec("telecom", "中国电信", "China Telecom"),
    OperatorSpec("mobile", "中国移动", "China Mobile"),
    OperatorSpec("unicom", "中国联通", "China Unicom"),
    OperatorSpec("broadnet", "中国广电", "China Broadnet"),
)

# The raw inputs an operator holds and reports per city, so that the city's figure can be compared
# with the sum over the operators. These are counts of the operators' own equipment and customers,
# each counted by exactly one operator, so the operators' figures add up to the city's:
# - 10G-PON and all PON ports: the operators' access network (OLT ports in their resource systems);
# - 5G base stations: counted by the operator that built the station (MIIT's statistics count a
#   shared station once, for its builder), so a station shared by 电信 and 联通 is not counted twice;
# - fixed-broadband users (all, ≥500 Mbps, ≥1000 Mbps) and mobile/5G users: customer accounts.
# Not operator-held: households able to take gigabit fibre (several operators pass the same
# household, so a sum double-counts), urban households and resident population (statistics
# bureau), key sites (the city's own list of hospitals, stations …).
OPERATOR_INPUTS: tuple[str, ...] = (
    "pon_10g_ports",
    "pon_ports_total",
    "bs5g_count",
    "users_500m_plus",
    "broadband_users_total",
    "users_1000m",
    "users_5g",
    "mobile_users_total",
)
