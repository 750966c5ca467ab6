"""Demo data that tells the story of a Gigabit City across the years: last year's round, decided and
published (Gigabit Cities of 2021 confirmed or not confirmed in their annual reports, a new city
named), and this year's open round, where the Gigabit Cities file annual reports (one confirmed, one
not confirmed, one on the watch list two rounds in a row, one still a draft started from last year's
form) beside new evaluations in every state. One account per role (and a few more). Everything is
created through the same services people use, so the history, scores and notifications are real.
Plausible values come from a seeded generator, also used by the tests and the benchmark."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass

from django.utils import timezone

from gigacity.models import City, Role, User
from gigacity.services import user_provision
from indicators.catalogue import KEY_SITE_CATEGORIES, OPERATOR_INPUTS, key_site_field
from indicators.models import Round, RoundStatus
from indicators.reference import ensure_thresholds, reference_load
from indicators.rules import meets, shift_years
from submissions.models import ChangeSource, OperatorFigureSource, Status, Submission
from submissions.operators import operator_figures_report
from submissions.services import submission_get_or_create, submission_submit, submission_update

from . import services

DEMO_PASSWORD = "Gigacity-2026"

KEY_SITE_RANGES = {
    "hospital": (6, 40),
    "university": (2, 20),
    "tourism": (3, 30),
    "railway": (1, 6),
    "airport": (0, 2),
    "road": (10, 60),
}


def plausible_inputs(rng: random.Random, *, strength: float = 1.0) -> dict[str, int]:
    """The raw inputs of a believable city; `strength` scales how far along it is (1.0 ≈ a city that
    meets the provisional thresholds comfortably, 0.7 misses some)."""
    population = rng.randint(1_200_000, 12_000_000)
    households = int(population / rng.uniform(2.5, 3.0) * rng.uniform(0.55, 0.8))
    pon_total = int(households * rng.uniform(0.8, 1.2))
    broadband = int(households * rng.uniform(0.85, 1.1))
    users_500m = int(broadband * min(0.95, rng.uniform(0.12, 0.35) * strength))
    mobile = int(population * rng.uniform(1.05, 1.4))
    data = {
        "resident_population": population,
        "urban_households": households,
        "gigabit_capable_households": int(households * rng.uniform(0.85, 1.6) * min(strength, 1.1)),
        "pon_ports_total": pon_total,
        "pon_10g_ports": int(pon_total * min(0.95, rng.uniform(0.3, 0.65) * strength)),
        "bs5g_count": int(population / 10_000 * rng.uniform(12, 32) * strength),
        "broadband_users_total": broadband,
        "users_500m_plus": users_500m,
        "users_1000m": max(int(users_500m * rng.uniform(0.3, 0.8)), int(60_000 * strength)),
        "mobile_users_total": mobile,
        "users_5g": int(mobile * min(0.95, rng.uniform(0.28, 0.6) * strength)),
    }
    data["users_1000m"] = min(data["users_1000m"], users_500m)
    for category in KEY_SITE_CATEGORIES:
        low, high = KEY_SITE_RANGES[category.key]
        total = rng.randint(low, high)
        covered = total if rng.random() < 0.8 else max(0, total - rng.randint(0, 1))
        data[key_site_field(category.key, "total")] = total
        data[key_site_field(category.key, "covered")] = covered
    return data


CASE_TEMPLATES = (
    (
        "industry",
        "5G+工业互联网智能工厂",
        "在重点制造企业部署5G专网，实现设备远程运维、机器视觉质检和AGV调度。",
        "解决了工厂布线难、产线调整慢、质检依赖人工的痛点。",
        "模式可复制到同类离散制造企业，已在省内3家企业推广。",
        "中国移动、华为、本地制造企业",
    ),
    (
        "livelihood",
        "千兆光网+远程医疗会诊",
        "依托千兆光网连接市级医院与县级医院，开展高清远程会诊和影像诊断。",
        "缓解了基层医疗资源不足、患者跨区就医难的问题。",
        "可推广到其他医联体，建设成本低、见效快。",
        "中国电信、市卫健委、市人民医院",
    ),
    (
        "government",
        "“一网通办”政务千兆专网",
        "建设覆盖市、区、街道三级的千兆政务外网，支撑一网通办和视频会商。",
        "解决了政务系统带宽不足、视频会议卡顿的堵点。",
        "架构标准化，适合各地政务网络升级。",
        "中国联通、市大数据局",
    ),
    (
        "consumer",
        "千兆宽带+超高清视频与云VR",
        "面向家庭用户推广千兆宽带与4K/8K超高清、云VR内容套餐。",
        "提升了千兆用户的体验，解决了“有网无用”的难点。",
        "内容与网络捆绑的推广方式可在各地复制。",
        "中国移动、本地广电",
    ),
    (
        "livelihood",
        "千兆校园+智慧教育",
        "建设千兆到校、万兆到区的教育专网，支撑同步课堂和虚拟实验。",
        "解决了城乡教育资源不均衡、在线课堂卡顿问题。",
        "已形成区域教育专网建设规范。",
        "中国电信、市教育局",
    ),
    (
        "consumer",
        "5G+智慧文旅景区",
        "在重点景区部署5G网络，提供AR导览、客流监测和应急指挥。",
        "解决了节假日人流密集时网络拥塞和安全管理难题。",
        "适用于各类A级景区。",
        "中国联通、市文旅局",
    ),
)

PRACTICES = {
    "practice_network": "统筹推进5G基站和千兆光网建设，将通信基础设施纳入国土空间规划，公共资源免费开放。",
    "practice_users": "开展千兆宽带提速惠民行动，推出千兆套餐和终端补贴，组织“千兆进万家”宣传。",
    "practice_applications": "围绕工业、医疗、教育、政务等领域遴选标杆项目，建立应用案例库并组织现场推广会。",
    "support_policies": "出台《“双千兆”网络协同发展行动方案》，设立专项资金支持应用示范项目。",
}


def demo_data(
    city: City,
    rng: random.Random,
    *,
    strength: float = 1.0,
    cases: int = 6,
    as_of: datetime.date | None = None,
) -> tuple[dict, list[dict]]:
    data = {
        **plausible_inputs(rng, strength=strength),
        **PRACTICES,
        "data_as_of": as_of or datetime.date(timezone.localdate().year, 10, 31),
        "contact_name": rng.choice(["王明", "李华", "张伟", "刘洋", "陈静", "赵磊"]),
        "contact_phone": f"0{rng.randint(100, 999)}-{rng.randint(10_000_000, 99_999_999)}",
        "contact_email": f"gigabit{city.code}@example.gov.cn",
    }
    return data, demo_cases(city, rng, cases)


def demo_cases(city: City, rng: random.Random, count: int) -> list[dict]:
    """`count` cases, every one a different application: the templates in turn from a random start,
    and a phase number once they run out ("（第2期）"), as a city reporting more cases would name them."""
    start = rng.randrange(len(CASE_TEMPLATES))
    items = []
    for i in range(count):
        domain, title, description, pain, replicability, partners = CASE_TEMPLATES[(start + i) % len(CASE_TEMPLATES)]
        phase = i // len(CASE_TEMPLATES)
        items.append(
            {
                "domain": domain,
                "title": f"{city.name}{title}" + (f"（第{phase + 1}期）" if phase else ""),
                "description": description,
                "pain_points": pain,
                "replicability": replicability,
                "partners": partners,
            }
        )
    return items


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    city: str | None = None
    province: str | None = None
    name: str = ""
    operator: str | None = None  # an operator's branch: the operator's code (its province in `province`)

    @property
    def key(self) -> str:
        """Its key in `seed_demo`'s users: the city, the province (a bureau), `operator:<code>` (an
        operator's branch shares its province with the bureau), or the national role."""
        if self.operator:
            return f"operator:{self.operator}"
        return self.city or self.province or ("ministry" if self.role == Role.MINISTRY else "admin")


ACCOUNTS = (
    DemoAccount("admin", Role.ADMIN, name="系统管理员"),
    DemoAccount("miit", Role.MINISTRY, name="工信部 信息通信发展司"),
    DemoAccount("shandong", Role.BUREAU, province="370000", name="山东省通信管理局"),
    DemoAccount("jiangsu", Role.BUREAU, province="320000", name="江苏省通信管理局"),
    DemoAccount("zhejiang", Role.BUREAU, province="330000", name="浙江省通信管理局"),
    DemoAccount("sd_mobile", Role.OPERATOR, province="370000", operator="mobile", name="中国移动山东有限公司"),
    DemoAccount("qingdao", Role.CITY, city="370200", name="青岛市填报员"),
    DemoAccount("jinan", Role.CITY, city="370100", name="济南市填报员"),
    DemoAccount("yantai", Role.CITY, city="370600", name="烟台市填报员"),
    DemoAccount("weifang", Role.CITY, city="370700", name="潍坊市填报员"),
    DemoAccount("zibo", Role.CITY, city="370300", name="淄博市填报员"),
    DemoAccount("xuzhou", Role.CITY, city="320300", name="徐州市填报员"),
    DemoAccount("nantong", Role.CITY, city="320600", name="南通市填报员"),
    DemoAccount("wenzhou", Role.CITY, city="330300", name="温州市填报员"),
    DemoAccount("nanjing", Role.CITY, city="320100", name="南京市填报员"),
)

# The decisions on an annual report, as targets of `drive` beside the workflow's states.
CONFIRMED, NOT_CONFIRMED = "confirmed", "not_confirmed"

# Last year's round (decided, then published): (city code, target, strength).
PREVIOUS_STATES = (
    ("370200", CONFIRMED, 0.9),  # 青岛, a Gigabit City since 2021: its annual report confirmed
    ("370100", CONFIRMED, 0.9),  # 济南, the same
    ("370300", Status.APPROVED, 0.95),  # 淄博: evaluated and named, last year's batch
    ("320100", NOT_CONFIRMED, 0.6),  # 南京 (2021): fell short, on the watch list
)

# (city code, the state its current-round form is left in, how far along the city is: below 1 some
# thresholds are missed, so the queues show flags to look at)
CURRENT_STATES = (
    ("370200", "partial", 1.0),  # 青岛: annual report, a draft started from last year's form
    ("370300", CONFIRMED, 1.15),  # 淄博, named last year: its first annual report, confirmed
    ("370100", NOT_CONFIRMED, 0.55),  # 济南: two indicators fell short: not confirmed, a date to improve
    ("320100", Status.SUBMITTED, 0.6),  # 南京: below thresholds again, two rounds on the watch list
    ("370700", Status.APPROVED, 1.05),  # 潍坊: evaluated and named this year
    ("370600", Status.RETURNED, 0.85),  # the other forms are evaluations of cities not yet named
    ("320300", Status.RECOMMENDED, 0.55),
    ("320600", Status.SUBMITTED, 0.8),
    ("330300", Status.RECOMMENDED, 1.0),
)


def demo_round_year(today: datetime.date) -> int:
    """This year's round (deadline 15 December), or next year's once this year's deadline is past."""
    return today.year if today <= datetime.date(today.year, 12, 15) else today.year + 1


def ensure_round(year: int, status: str) -> Round:
    round_, _created = Round.objects.get_or_create(
        year=year,
        defaults={
            "status": status,
            "opens_on": datetime.date(year, 7, 1),
            "deadline": datetime.date(year, 12, 15),
            "data_as_of": datetime.date(year, 10, 31),
            "thresholds_provisional": True,
            "notice": "演示轮次" if year != timezone.localdate().year else "",
        },
    )
    ensure_thresholds(round_)
    return round_


def drive(
    submission: Submission, target: str, users: dict[str, User], rng: random.Random, strength: float = 1.0
) -> None:
    """Fill a new draft and walk it through the workflow to `target`, as the real people would."""
    city_user = users[submission.city_id]
    bureau = users[submission.city.province_id]
    data, cases = demo_data(submission.city, rng, strength=strength, as_of=datetime.date(submission.round.year, 10, 31))
    if target == "partial":
        partial = {
            k: v
            for k, v in data.items()
            if k.startswith(("contact", "data_as_of", "resident", "urban", "gigabit", "pon", "bs5g"))
        }
        submission_update(
            submission_id=submission.pk,
            actor=city_user,
            data=partial,
            # A form started from last year's keeps the cases carried over, for the city to go through.
            cases=None if submission.carried_from_id else cases[:2],
            expected_version=submission.version,
            source=ChangeSource.FORM,
        )
        return
    submission = submission_update(
        submission_id=submission.pk,
        actor=city_user,
        data=data,
        cases=cases,
        expected_version=submission.version,
        source=ChangeSource.FORM,
    )
    submission_submit(submission_id=submission.pk, actor=city_user)
    if target == Status.SUBMITTED:
        return
    if target == Status.RETURNED:
        services.submission_return(
            submission_id=submission.pk,
            actor=bureau,
            reason="请核实5G基站数和重点场所统计口径后重新提交。",
            comments={
                "bs5g_count": "5G基站数与运营商上报数据差异较大，请核实。",
                "key_sites_total": "请按六类重点场所分别填写。",
            },
        )
        return
    excellent = list(submission.cases.values_list("pk", flat=True)[:2])
    services.submission_recommend(
        submission_id=submission.pk,
        actor=bureau,
        excellent_case_ids=excellent,
        note="数据已逐项核实，推荐评估。",
    )
    if target in (Status.APPROVED, CONFIRMED, NOT_CONFIRMED):
        decide(submission, target, users)


def decide(submission: Submission, target: str, users: dict[str, User]) -> None:
    """The ministry's decision on a recommended form: an evaluation approved, an annual report
    confirmed or not confirmed (on the indicators below their threshold, to improve by next year's
    deadline)."""
    ministry = users["ministry"]
    if target == Status.APPROVED:
        services.submission_approve(submission_id=submission.pk, actor=ministry)
    elif target == CONFIRMED:
        services.submission_confirm(submission_id=submission.pk, actor=ministry, reason="各项指标保持达标，复核通过。")
    elif target == NOT_CONFIRMED:
        submission.refresh_from_db()
        thresholds = submission.round.threshold_map()
        short = [
            code for code, value in submission.indicator_values.items() if meets(value, thresholds.get(code)) is False
        ]
        services.submission_not_confirm(
            submission_id=submission.pk,
            actor=ministry,
            reason="部分指标低于千兆城市评价标准，请制定整改方案并按期完成整改。",
            shortfall=short,
            improvement_due=max(
                shift_years(submission.round.deadline, 1) or timezone.localdate(),
                timezone.localdate() + datetime.timedelta(days=90),
            ),
        )


def seed_demo() -> tuple[list[DemoAccount], Round]:
    """Idempotent: accounts are (re)set to the demo password, and a city's demo form is only created
    when that city has none in the round yet. Each step commits on its own (scoring runs on commit),
    so an interrupted seed is finished by running it again."""
    reference_load()
    today = timezone.localdate()
    users: dict[str, User] = {}
    for account in ACCOUNTS:
        user, _created = user_provision(
            username=account.username,
            password=DEMO_PASSWORD,
            role=account.role,
            city_code=account.city,
            province_code=account.province,
            operator_code=account.operator,
            full_name=account.name,
            email=f"{account.username}@example.gov.cn",
        )
        users[account.key] = user

    year = demo_round_year(today)
    # Last year's demo round: the forms of last year (shown beside this year's inputs, used to flag
    # large jumps, and the forms this year's start from), decided and published.
    previous = Round.objects.filter(year=year - 1).first()
    if previous is None:
        # Created open without a deadline so that last year's forms can be entered now, then closed
        # with the deadline it had, decided and published.
        previous = ensure_round(year - 1, RoundStatus.OPEN)
        previous.deadline = None
        previous.save(update_fields=["deadline"])
        decisions = []
        for code, target, strength in PREVIOUS_STATES:
            city = City.objects.get(pk=code)
            submission = submission_get_or_create(city=city, round_=previous, actor=users[code])
            drive(submission, Status.RECOMMENDED, users, random.Random(code), strength=strength)
            decisions.append((submission, target))
        services.round_update(round_=previous, actor=users["ministry"], deadline=datetime.date(year - 1, 12, 15))
        services.round_set_status(round_=previous, status=RoundStatus.CLOSED, actor=users["ministry"])
        for submission, target in decisions:
            decide(submission, target, users)
        services.round_set_status(round_=previous, status=RoundStatus.PUBLISHED, actor=users["ministry"])

    current = ensure_round(year, RoundStatus.OPEN)
    for code, target, strength in CURRENT_STATES:
        if Submission.objects.filter(city_id=code, round=current).exists():
            continue
        city = City.objects.get(pk=code)
        submission = submission_get_or_create(city=city, round_=current, actor=users[code])
        drive(submission, target, users, random.Random(code), strength=strength)
    report_operator_figures(current, users)
    return list(ACCOUNTS), current


# Each operator's share of a 山东 city's counts in the demo (中国移动 the largest, as it is there).
OPERATOR_SHARES = {"mobile": 0.46, "telecom": 0.3, "unicom": 0.2, "broadnet": 0.04}
# 烟台's form was returned for its 5G base stations "差异较大": the operators' sum is this far below.
DEMO_MISMATCH = ("370600", "bs5g_count", 0.8)


def report_operator_figures(round_: Round, users: dict[str, User]) -> None:
    """The operators' figures for the demo's 山东 cities in the open round, so that the review page
    and the queue show the comparison: 中国移动's branch reports its own (the demo operator account),
    the bureau reports 电信's and 联通's on their behalf, and 中国广电 has not reported, so its share
    is named as missing. The counts add up to what each city typed, within the tolerance, except for
    烟台's 5G base stations. Reporting the same counts again changes nothing, so a second seed is a
    no-op."""
    bureau = users["370000"]
    cities = [(code, strength) for code, _target, strength in CURRENT_STATES if code.startswith("37")]
    for operator, share in OPERATOR_SHARES.items():
        if operator == "broadnet":
            continue
        actor = users.get(f"operator:{operator}", bureau)
        rows = []
        for code, strength in cities:
            # The inputs the city typed (drive's first draw from the same seed), or will type.
            inputs = plausible_inputs(random.Random(code), strength=strength)
            row = {"city": code}
            for name in OPERATOR_INPUTS:
                factor = DEMO_MISMATCH[2] if (code, name) == DEMO_MISMATCH[:2] else 1.0
                row[name] = int(inputs[name] * share * factor)
            rows.append(row)
        operator_figures_report(
            actor=actor,
            round_=round_,
            operator_code=operator,
            rows=rows,
            source=OperatorFigureSource.EXCEL if actor == bureau else OperatorFigureSource.PAGE,
        )
