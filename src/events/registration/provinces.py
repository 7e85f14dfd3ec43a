"""The 34 provincial-level divisions of China, in Chinese and English.

Stored by their ISO 3166-2:CN code (``SC`` for Sichuan); people may type the code, the
short or full Chinese name, the English name or the GB/T 2260 number, and all mean the same.
"""

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Province:
    code: str
    """ISO 3166-2:CN without the ``CN-`` prefix."""
    gb: str
    """GB/T 2260 two-digit number."""
    zh: str
    """Short Chinese name, as people say it: 四川."""
    zh_full: str
    """Official Chinese name: 四川省."""
    en: str
    kind: str
    """province, autonomous_region, municipality or sar."""
    aliases: tuple[str, ...] = ()


PROVINCES: tuple[Province, ...] = (
    Province("BJ", "11", "北京", "北京市", "Beijing", "municipality", ("Peking",)),
    Province("TJ", "12", "天津", "天津市", "Tianjin", "municipality"),
    Province("HE", "13", "河北", "河北省", "Hebei", "province"),
    Province("SX", "14", "山西", "山西省", "Shanxi", "province"),
    Province(
        "NM",
        "15",
        "内蒙古",
        "内蒙古自治区",
        "Inner Mongolia",
        "autonomous_region",
        ("Nei Mongol", "Neimenggu"),
    ),
    Province("LN", "21", "辽宁", "辽宁省", "Liaoning", "province"),
    Province("JL", "22", "吉林", "吉林省", "Jilin", "province"),
    Province("HL", "23", "黑龙江", "黑龙江省", "Heilongjiang", "province"),
    Province("SH", "31", "上海", "上海市", "Shanghai", "municipality"),
    Province("JS", "32", "江苏", "江苏省", "Jiangsu", "province"),
    Province("ZJ", "33", "浙江", "浙江省", "Zhejiang", "province"),
    Province("AH", "34", "安徽", "安徽省", "Anhui", "province"),
    Province("FJ", "35", "福建", "福建省", "Fujian", "province"),
    Province("JX", "36", "江西", "江西省", "Jiangxi", "province"),
    Province("SD", "37", "山东", "山东省", "Shandong", "province"),
    Province("HA", "41", "河南", "河南省", "Henan", "province"),
    Province("HB", "42", "湖北", "湖北省", "Hubei", "province"),
    Province("HN", "43", "湖南", "湖南省", "Hunan", "province"),
    Province("GD", "44", "广东", "广东省", "Guangdong", "province"),
    Province("GX", "45", "广西", "广西壮族自治区", "Guangxi", "autonomous_region"),
    Province("HI", "46", "海南", "海南省", "Hainan", "province"),
    Province("CQ", "50", "重庆", "重庆市", "Chongqing", "municipality"),
    Province("SC", "51", "四川", "四川省", "Sichuan", "province"),
    Province("GZ", "52", "贵州", "贵州省", "Guizhou", "province"),
    Province("YN", "53", "云南", "云南省", "Yunnan", "province"),
    Province("XZ", "54", "西藏", "西藏自治区", "Xizang", "autonomous_region", ("Tibet",)),
    Province("SN", "61", "陕西", "陕西省", "Shaanxi", "province"),
    Province("GS", "62", "甘肃", "甘肃省", "Gansu", "province"),
    Province("QH", "63", "青海", "青海省", "Qinghai", "province"),
    Province("NX", "64", "宁夏", "宁夏回族自治区", "Ningxia", "autonomous_region"),
    Province("XJ", "65", "新疆", "新疆维吾尔自治区", "Xinjiang", "autonomous_region"),
    Province("TW", "71", "台湾", "台湾省", "Taiwan", "province"),
    Province("HK", "81", "香港", "香港特别行政区", "Hong Kong", "sar", ("Hongkong",)),
    Province("MO", "82", "澳门", "澳门特别行政区", "Macao", "sar", ("Macau",)),
)

BY_CODE: dict[str, Province] = {p.code: p for p in PROVINCES}


def _key(text: str) -> str:
    return "".join(text.split()).casefold()


_LOOKUP: dict[str, Province] = {}
for _p in PROVINCES:
    for _name in (_p.code, f"CN-{_p.code}", _p.gb, _p.zh, _p.zh_full, _p.en, *_p.aliases):
        _LOOKUP[_key(_name)] = _p


def find(text: str) -> Province | None:
    """The division meant by ``text`` (code, Chinese or English name), or None."""
    return _LOOKUP.get(_key(text)) if text else None


def province(code: str) -> Province:
    """The division with this stored code."""
    return BY_CODE[code]


def zh_name(code: str) -> str:
    found = BY_CODE.get(code)
    return found.zh if found else code
