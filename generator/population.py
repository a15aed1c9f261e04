"""Reference data of the generated world: districts, households, technicians, customers.

Customers live in numpy arrays (a province has 8M of them); the personal data
of a customer (name, phone, address, ID number) is derived on demand from a
hash of (seed, index), so it is deterministic and costs no memory.

Planting knobs kept here because every simulator needs them:
``district_quality`` (0.0 = a clean district that never breaches a rule,
otherwise a factor on the preset's violation rates) and ``technician_quality``
(per technician; some technicians in unclean districts are clean too).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from generator.presets import Preset
from kefu import rulebook

TIERS: tuple[str, ...] = ("red_vip", "vip", "gotone_vip", "gotone", "mzone", "szx", "ordinary")
VIP_LEVELS: tuple[str, ...] = ("diamond", "gold", "silver")
KINDS: tuple[str, ...] = ("individual", "business")
_TIERS_OBJ = np.array(TIERS, dtype=object)
_KINDS_OBJ = np.array(KINDS, dtype=object)

_SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_GIVEN = list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国志强文博宇浩然子涵欣怡梓轩雨桐思远晨阳佳琪俊杰嘉怡天佑海峰德华淑珍凤英永红春梅"
)
_ROADS = [
    "人民路",
    "解放路",
    "建设路",
    "中山路",
    "和平路",
    "新华路",
    "胜利路",
    "文化路",
    "长江路",
    "黄河路",
    "朝阳路",
    "青年路",
    "健康路",
    "迎宾大道",
    "滨江路",
    "幸福街",
    "光明街",
    "育才路",
    "工业路",
    "站前路",
]
_ESTATES = ["小区", "花园", "家园", "新村", "公寓", "名苑", "雅居", "广场"]
_MOBILE_PREFIXES = [
    "130",
    "131",
    "132",
    "133",
    "134",
    "135",
    "136",
    "137",
    "138",
    "139",
    "147",
    "150",
    "151",
    "152",
    "153",
    "155",
    "156",
    "157",
    "158",
    "159",
    "166",
    "170",
    "176",
    "177",
    "178",
    "180",
    "181",
    "182",
    "183",
    "184",
    "185",
    "186",
    "187",
    "188",
    "189",
    "191",
    "195",
    "198",
    "199",
]
_REGION_CODES = [
    "330102",
    "330106",
    "330108",
    "330110",
    "330122",
    "330182",
    "330183",
    "330185",
    "330203",
    "330282",
    "330302",
    "330381",
    "320102",
    "320106",
    "340102",
    "360102",
    "350102",
    "430102",
]
_URBAN_A = list("东西南北中新江湖城河滨山港")
_URBAN_B = ["城", "湖", "关", "苑", "桥", "门", "园", "岸", "塘", "坊", "街", "坝", "里", "岭", "阳", "台"]
_RURAL_A = list("青石柳杨桃李梅松竹白龙凤金银云安平永兴福")
_RURAL_B = ["溪", "桥", "坪", "塘", "岗", "湾", "庄", "口", "铺", "坝", "店", "集", "营", "垸", "岭", "渡"]
_CITY = "江州市"
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MASK64 = (1 << 64) - 1


def _mix(x: int) -> int:
    """splitmix64 finaliser: a cheap, well-spread hash of a 64-bit integer."""
    x = (x + 0x9E3779B97F4A7C15) & _MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK64
    return x ^ (x >> 31)


class _Bits:
    """A deterministic stream of small random choices from one 64-bit seed."""

    def __init__(self, seed: int):
        self.state = seed & _MASK64

    def below(self, n: int) -> int:
        self.state = _mix(self.state)
        return self.state % n


def month_key(d: date) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def add_months(d: date, n: int) -> date:
    y, m = divmod(d.month - 1 + n, 12)
    return date(d.year + y, m + 1, 1)


def month_end(d: date) -> date:
    return date(d.year, d.month, calendar.monthrange(d.year, d.month)[1])


def chinese_name(bits: _Bits) -> str:
    given = _GIVEN[bits.below(len(_GIVEN))]
    if bits.below(3):
        given += _GIVEN[bits.below(len(_GIVEN))]
    return _SURNAMES[bits.below(len(_SURNAMES))] + given


def mobile_number(bits: _Bits) -> str:
    return _MOBILE_PREFIXES[bits.below(len(_MOBILE_PREFIXES))] + f"{bits.below(100_000_000):08d}"


def id_number(bits: _Bits) -> str:
    """An 18-digit resident ID number with a valid check digit (GB 11643)."""
    born = date(1950, 1, 1) + timedelta(days=bits.below(20_000))
    body = f"{_REGION_CODES[bits.below(len(_REGION_CODES))]}{born:%Y%m%d}{bits.below(1000):03d}"
    return body + _ID_CHECK[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS)) % 11]


@dataclass
class Population:
    """Reference data, numpy-backed (see module doc)."""

    seed: int
    start: date
    end: date
    districts: list[dict]
    district_households: dict[tuple[str, str], tuple[int, int]]
    technicians: list[dict]
    district_quality: np.ndarray  # per district: 0.0 = clean
    technician_quality: dict[str, float]  # per technician id: 0.0 = clean
    customer_id: np.ndarray
    tier_code: np.ndarray  # int8 index into TIERS
    vip_level_code: np.ndarray  # int8 index into VIP_LEVELS, -1 = none
    district_idx: np.ndarray
    kind_code: np.ndarray  # int8 index into KINDS
    is_project: np.ndarray
    project_delivery: np.ndarray
    opened: np.ndarray
    _by_district: list[np.ndarray] = field(default_factory=list, repr=False)
    _vip_by_district: list[np.ndarray] = field(default_factory=list, repr=False)
    _assignments: dict[str, list[tuple[str, date, date | None]]] = field(default_factory=dict, repr=False)

    # --- the interface's string views (object arrays share one string per value)
    @property
    def tier(self) -> np.ndarray:
        return _TIERS_OBJ[self.tier_code]

    @property
    def customer_kind(self) -> np.ndarray:
        return _KINDS_OBJ[self.kind_code]

    @property
    def district_ids(self) -> list[str]:
        return [d["district_id"] for d in self.districts]

    @property
    def n_customers(self) -> int:
        return len(self.customer_id)

    def is_vip(self, i: int) -> bool:
        return TIERS[self.tier_code[i]] in rulebook.vip_tiers()

    def customer_row(self, i: int) -> dict:
        """The full `customers` row of customer i, with deterministic fake PII."""
        bits = _Bits(_mix(self.seed * 1_000_003 + i))
        d = self.districts[int(self.district_idx[i])]
        estate = _ESTATES[bits.below(len(_ESTATES))]
        address = (
            f"{_CITY}{d['district_name'].removesuffix('片区')}{_ROADS[bits.below(len(_ROADS))]}"
            f"{1 + bits.below(399)}号{_GIVEN[bits.below(len(_GIVEN))]}{estate}"
            f"{1 + bits.below(30)}栋{1 + bits.below(4)}单元{1 + bits.below(28)}{1 + bits.below(4):02d}室"
        )
        kind = KINDS[self.kind_code[i]]
        name = chinese_name(bits)
        if kind == "business":
            name = f"{_CITY}{name[:1]}{_ROADS[bits.below(len(_ROADS))][:2]}商贸有限公司"
        vl = int(self.vip_level_code[i])
        pd_ = self.project_delivery[i]
        return {
            "customer_id": str(self.customer_id[i]),
            "customer_name": name,
            "phone": self.customer_phone(i),
            "address": address,
            "id_number": id_number(bits),
            "tier": TIERS[self.tier_code[i]],
            "vip_level": VIP_LEVELS[vl] if vl >= 0 else None,
            "district_id": d["district_id"],
            "customer_kind": kind,
            "is_project": bool(self.is_project[i]),
            "project_delivery_date": None if np.isnat(pd_) else pd_.astype(object),
            "opened_date": self.opened[i].astype(object),
        }

    def customer_phone(self, i: int) -> str:
        """The customer's mobile number (the same as in customer_row)."""
        return mobile_number(_Bits(_mix(self.seed * 1_000_003 + i) ^ 0x5DEECE66D))

    def customers_in(self, district: int) -> np.ndarray:
        return self._by_district[district]

    def vips_in(self, district: int) -> np.ndarray:
        return self._vip_by_district[district]

    def technicians_on(self, day: date, district_id: str) -> list[str]:
        return [t for t, frm, to in self._assignments.get(district_id, []) if frm <= day and (to is None or day <= to)]

    def households(self, district_id: str, month: str) -> int:
        return self.district_households[(district_id, month)][0]


def _district_names(rng: np.random.Generator, n: int, rural: np.ndarray) -> list[str]:
    used: set[str] = set()
    out = []
    for i in range(n):
        a, b = (_RURAL_A, _RURAL_B) if rural[i] else (_URBAN_A, _URBAN_B)
        for attempt in range(200):
            name = a[rng.integers(len(a))] + b[rng.integers(len(b))]
            if attempt > 100:
                name += str(attempt)
            if name not in used:
                break
        used.add(name)
        out.append(name + ("镇片区" if rural[i] else "片区"))
    return out


def build_population(preset: Preset, rng: np.random.Generator, seed: int | None = None) -> Population:
    """The reference data of a preset; `seed` salts the fake personal data (drawn from rng when None)."""
    if seed is None:
        seed = int(rng.integers(2**31))
    start = date(preset.start_year, 1, 1)
    end = month_end(add_months(start, preset.months - 1))
    months = [add_months(start, k) for k in range(preset.months)]
    n_d = preset.districts
    a1 = rulebook.load()["A1"]
    tol = a1.limit("tolerance").count or 0.0

    # --- districts
    rural = np.zeros(n_d, dtype=bool)
    rural[rng.choice(n_d, size=int(round(n_d * preset.rural_share)), replace=False)] = True
    width = max(2, len(str(n_d)))
    ids = [f"D{k + 1:0{width}d}" for k in range(n_d)]
    names = _district_names(rng, n_d, rural)
    # a district head (片区负责人) answers for two neighbouring districts (D-136): no draw, so the
    # rest of the population is the same with or without heads
    districts = [
        {
            "district_id": ids[k],
            "district_name": names[k],
            "area_type": "rural" if rural[k] else "urban",
            "head_id": f"H{k // 2 + 1:0{width}d}",
        }
        for k in range(n_d)
    ]
    weight = rng.lognormal(0.0, 0.5, n_d) * np.where(rural, 0.8, 1.4)
    h0 = np.maximum(300, np.round(weight / weight.sum() * preset.households)).astype(np.int64)
    # staffing limits (A1); an understaffed district needs more households than one technician may serve
    limits = np.where(rural, a1.limit("rural").count or 0, a1.limit("urban").count or 0)
    n_under = int(round(n_d * preset.understaffed_share))
    need = limits * (1 + tol) * 1.1
    ratio_order = np.argsort(-(h0 / need), kind="stable")
    under = {int(d) for d in ratio_order[:n_under]}
    for d in under:
        h0[d] = max(int(h0[d]), int(need[d] * rng.uniform(1.05, 1.4)))

    # --- households per month (slow growth, some declines) and the yearly target
    district_households: dict[tuple[str, str], tuple[int, int]] = {}
    h_month = np.zeros((n_d, len(months)), dtype=np.int64)
    cur = h0.astype(float)
    target = np.round(h0 * (1 + preset.household_target_growth)).astype(np.int64)
    for k, m in enumerate(months):
        g = rng.normal(preset.household_growth_mean, preset.household_growth_sd, n_d)
        decline = rng.random(n_d) < preset.household_decline_prob
        g = np.where(decline, -np.abs(rng.normal(0.004, 0.003, n_d)) - 0.0005, np.abs(g))
        cur = cur * (1 + g)
        h_month[:, k] = np.round(cur)
        if m.month == 1 and k > 0:
            target = np.round(h_month[:, k - 1] * (1 + preset.household_target_growth)).astype(np.int64)
        for d in range(n_d):
            district_households[(ids[d], month_key(m))] = (int(h_month[d, k]), int(target[d]))

    # --- planting factors
    quality = rng.uniform(*preset.district_factor, n_d)
    n_clean = min(n_d - 1, max(1, int(round(n_d * preset.clean_district_share))))  # both kinds exist
    quality[rng.choice(n_d, size=n_clean, replace=False)] = 0.0

    # --- technicians, loaded per the A1 limits; some districts understaffed
    techs_per = np.zeros(n_d, dtype=np.int64)
    for d in range(n_d):
        if d in under:
            load = rng.uniform(*preset.understaffed_load)
            n = max(1, int(h0[d] / (limits[d] * load)))
            while n > 1 and h0[d] / n <= limits[d] * (1 + tol) * 1.05:
                n -= 1
        else:
            n = int(np.ceil(h0[d] / (limits[d] * rng.uniform(*preset.staffed_load))))
        techs_per[d] = max(1, n)
    technicians: list[dict] = []
    tech_quality: dict[str, float] = {}
    assignments: dict[str, list[tuple[str, date, date | None]]] = {i: [] for i in ids}
    tno = 0
    tech_home: list[tuple[str, int]] = []
    for d in range(n_d):
        for _ in range(techs_per[d]):
            tno += 1
            tid = f"W{tno:05d}"
            tech_home.append((tid, d))
            tech_quality[tid] = 0.0 if rng.random() < preset.clean_technician_share else float(rng.uniform(0.6, 1.8))
    n_moves = int(round(len(tech_home) * preset.technician_moves))
    movable = [k for k, (_, d) in enumerate(tech_home) if techs_per[d] >= 2]
    movers = set(rng.choice(movable, size=min(n_moves, len(movable)), replace=False).tolist()) if movable else set()
    span = (end - start).days
    for k, (tid, d) in enumerate(tech_home):
        bits = _Bits(_mix(seed * 7_919 + k))
        row = {"technician_id": tid, "technician_name": chinese_name(bits), "technician_phone": mobile_number(bits)}
        since = date(2015, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 10)))
        if k in movers and span > 20:
            moved = start + timedelta(days=int(rng.integers(10, span - 5)))
            to_d = int(rng.integers(n_d - 1))
            to_d = to_d + 1 if to_d >= d else to_d
            technicians.append(
                {**row, "district_id": ids[d], "valid_from": since, "valid_to": moved - timedelta(days=1)}
            )
            technicians.append({**row, "district_id": ids[to_d], "valid_from": moved, "valid_to": None})
            assignments[ids[d]].append((tid, since, moved - timedelta(days=1)))
            assignments[ids[to_d]].append((tid, moved, None))
        else:
            technicians.append({**row, "district_id": ids[d], "valid_from": since, "valid_to": None})
            assignments[ids[d]].append((tid, since, None))

    # --- customers: the base at the start, then new customers month by month
    counts = [h0]
    for k in range(len(months)):
        prev = h0 if k == 0 else h_month[:, k - 1]
        counts.append(np.maximum(0, h_month[:, k] - prev) + np.round(prev * 0.002).astype(np.int64))
    district_idx = np.concatenate([np.repeat(np.arange(n_d, dtype=np.int32), c) for c in counts])
    n = len(district_idx)
    opened = np.empty(n, dtype="datetime64[D]")
    base_n = int(h0.sum())
    base_days = (np.datetime64(start) - np.datetime64("2005-01-01")).astype(int)
    opened[:base_n] = np.datetime64("2005-01-01") + np.sort(rng.integers(0, base_days, base_n))
    pos = base_n
    for k, m in enumerate(months):
        c = int(counts[k + 1].sum())
        days_in = (month_end(m) - m).days + 1
        opened[pos : pos + c] = np.datetime64(m) + rng.integers(0, days_in, c)
        pos += c
    order = np.argsort(opened, kind="stable")  # customer ids follow the opening order
    district_idx = district_idx[order]
    opened = opened[order]
    shares = np.array([preset.tier_shares[t] for t in TIERS], dtype=float)
    tier_code = rng.choice(len(TIERS), size=n, p=shares / shares.sum()).astype(np.int8)
    lv = np.array([preset.gotone_vip_levels[v] for v in VIP_LEVELS])
    vip_level_code = np.where(
        tier_code == TIERS.index("gotone_vip"), rng.choice(len(VIP_LEVELS), size=n, p=lv / lv.sum()), -1
    ).astype(np.int8)
    kind_code = (rng.random(n) < preset.business_share).astype(np.int8)
    is_project = rng.random(n) < preset.project_share * np.where(kind_code == 1, 8.0, 0.4)
    project_delivery = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    pidx = np.flatnonzero(is_project)
    recent = rng.random(len(pidx)) < preset.project_recent_share
    end64 = np.datetime64(end)
    # recent: delivered within the year before the end of the data; older: 1–6 years before it
    project_delivery[pidx] = np.where(
        recent, end64 - rng.integers(20, 360, len(pidx)), end64 - rng.integers(380, 2200, len(pidx))
    )
    project_delivery[pidx] = np.minimum(project_delivery[pidx], np.maximum(opened[pidx], project_delivery[pidx]))
    width_c = 9
    customer_id = np.char.add("C", np.char.zfill(np.arange(1, n + 1).astype(f"U{width_c}"), width_c))

    by_district = [np.empty(0, dtype=np.int64)] * n_d
    order_d = np.argsort(district_idx, kind="stable")
    bounds = np.searchsorted(district_idx[order_d], np.arange(n_d + 1))
    vip_codes = [TIERS.index(t) for t in rulebook.vip_tiers()]
    is_vip = np.isin(tier_code, vip_codes)
    vip_by_district = []
    for d in range(n_d):
        members = order_d[bounds[d] : bounds[d + 1]]
        by_district[d] = members
        vip_by_district.append(members[is_vip[members]])
    return Population(
        seed=seed,
        start=start,
        end=end,
        districts=districts,
        district_households=district_households,
        technicians=technicians,
        district_quality=quality,
        technician_quality=tech_quality,
        customer_id=customer_id,
        tier_code=tier_code,
        vip_level_code=vip_level_code,
        district_idx=district_idx,
        kind_code=kind_code,
        is_project=is_project,
        project_delivery=project_delivery,
        opened=opened,
        _by_district=by_district,
        _vip_by_district=vip_by_district,
        _assignments=assignments,
    )
