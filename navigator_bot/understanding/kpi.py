"""KPI questions: recognise them in typed text and answer with figures computed from the catalog.

Recognition needs two things: what is asked about (a KPI alias, a fiscal year, or the KPIs as a whole) and a sign
that a figure is wanted (件数, 実績, 進捗, 何人, KPI …). So 「サポステで相談したい」 is left to the measure search,
while 「サポステの相談件数は？」 is answered here. Rates are computed with `rate_percent`, never copied.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

from rapidfuzz import fuzz

from ..catalog import Catalog, rate_percent
from ..fiscal_year import fiscal_year_label, fiscal_years_label, parse_fiscal_years
from ..i18n import Translator
from ..models import Kpi
from .normalize import SynonymRewriter, normalize

KpiKind = Literal["one", "year", "unmet", "list", "compare", "extreme", "cumulative", "crossed", "best", "between"]
Aspect = Literal["", "least", "rise", "least_rise", "worst", "average", "points", "sum", "single", "count", "share",
                 "ratio"]

BAR_CELLS = 10
BAR_FULL, BAR_EMPTY = "▓", "░"
_FUZZY_MIN_LENGTH = 6  # shorter aliases match exactly only: one wrong character is too large a share of them
_FUZZY_CUTOFF = 85.0  # one typo or one extra particle in a 7-character alias still scores 85.7
_FUZZY_FRAGMENT_LENGTH = 8  # a short name is read with a typo only from this length ("platfroms", not "jc")
_FUZZY_MAX_LENGTH = 80  # KPI questions are short; longer messages are matched exactly only, to stay fast

# Kana readings of the kanji words in KPI names and questions, so that 「さぽすてのそうだんけんすう」 matches
# 「サポステの相談件数」. Applied to both the aliases and the message, longest word first.
_READINGS = {
    "正社員": "せいしゃいん", "正規雇用": "せいきこよう", "正規": "せいき", "雇用": "こよう", "就職": "しゅうしょく",
    "件数": "けんすう", "者数": "しゃすう", "人数": "にんずう", "新規": "しんき", "登録": "とうろく", "利用": "りよう",
    "相談": "そうだん", "市町村": "しちょうそん", "設置": "せっち", "実績": "じっせき", "実施": "じっし",
    "県内": "けんない", "全市": "ぜんし", "何件": "なんけん", "何人": "なんにん", "何市": "なんし", "何名": "なんめい",
    "進捗": "しんちょく", "達成": "たっせい", "目標": "もくひょう", "累計": "るいけい", "一覧": "いちらん",
    "状況": "じょうきょう", "若者": "わかもの", "地域": "ちいき", "者": "しゃ", "数": "すう", "人": "ひと",
}  # fmt: skip
_READING_PATTERN = re.compile("|".join(sorted(map(re.escape, _READINGS), key=len, reverse=True)))

# Signs that a figure is wanted. Strong ones make any KPI mention a question; weak ones count only when the
# message is not about the writer's own plans (「正社員就職を目標に頑張っています」 is not a KPI question).
_STRONG = [
    "件数", "何件", "何人", "何名", "何市", "何か所", "何箇所", "何ヶ所", "人数", "者数", "登録数", "設置数",
    "設置状況", "累計", "推移", "数値", "割合", "kpi", "指標", "進捗", "実績", "達成率", "達成状況",
    "how many", "number of", "figures", "設置率", "前年比", "伸び率", "増加率", "減少率", "何パーセント",
    "how much", "percentage", "what was", "what is the", "total", "合計", "足すと", "足したら", "sum of",
    "cumulative", "figure", "data", "平均", "average", "numbers", "each year", "by year", "year by year", "yearly",
    "年度別", "年度ごと", "年ごと", "毎年の", "combined", "占め", "share of", "何倍", "how many times",
]  # fmt: skip
_WEAK = ["目標(?!に|として)", "目標に(届い|届か|達し)", "達成(?!したい|する|しよう|でき)", "成果", "いくつ",
         "どれくらい", "どのくらい", "どれだけ", "どこまで進", "どこまで来", "今どこまで", "順調", "result", "progress",
         "target", "achiev",
         "how far", "goal"]  # fmt: skip
_STRONG_REGEX = [r"数(?:は|を|って|が|$)", r"何(?:増|減|伸|多|少)"]  # 相談数は, 登録者の数; 何％増 (％ is dropped)
# Words that make a message about the KPIs as a whole, with no KPI or year named.
_META = [
    "kpi", "指標", "進捗状況", "進捗率", "達成率", "達成状況", "数値目標", "目標値", "目標と実績", "実績と目標",
    "取組状況", "indicators",
]  # fmt: skip
_EXPLICIT = ["kpi", "指標", "indicator"]
_YEAR_CONTEXT = ["実績", "進捗", "達成", "目標", "結果", "成果", "kpi", "指標", "件数", "数値", "状況", "全部", "全て",
                 "すべて", "まとめ", "一覧", "result", "progress", "figures", "numbers", "achiev", "target", "overview",
                 "summary"]  # fmt: skip
_UNMET = [
    "未達", "達成していない", "達成できていない", "達成してない", "達成できてない", "達成しなかった",
    "達成できなかった", "届いていない", "届いてない", "届かなかった", "下回って", "not achieved", "unmet",
    "not met", "below target", "behind target", "missedthetarget", "missedtheirtarget", "missedtarget",
    "missedtargets", "missedits", "short of",
]  # fmt: skip
# The writer's own life or wishes: a generic word such as 目標 or 達成 then is not about the plan's KPIs.
_PERSONAL = ["私", "わたし", "自分", "僕", "ぼく", "俺", "おれ", "うちの", "息子", "娘", "応募", "面接", "就活",
             "転職", "iwant", "iwould", "ineed"]  # fmt: skip
_WISH = re.compile(r"たい|ほしい|欲しい")
_ASKING = re.compile(r"(?:知り|見|教えて(?:もらい)?|聞き|確認し|調べ|比べ|比較し|把握し)たい"
                     r"|(?:教えて|見せて)(?:ほしい|欲しい)"
                     r"|i ?(?:want|would like|wanna|need) ?(?:to ?)?(?:know|see|check|ask)"
                     r"|i ?need ?(?:it|this|them) ?for")
# A message that is only a generic word with polite filler: 「目標」「実績は？」「進捗を教えてください」.
_BARE = re.compile(
    r"(?:全体の|県の|今の|現在の|最新の|(?:この)?(?:ぷらっとふぉーむ|ぷらっとほーむ|pf|platform)の?)?(?:目標|実績|進捗|達成|成果|results?|targets?|achievements?)"
    r"(?:の?一覧|まとめて?|状況)?(?:は|を|って|について)?"
    r"(?:教えて(?:ください|下さい|ほしい)?|知りたい|見せて(?:ください|下さい)?|見たい|どう(?:ですか|なって(?:い)?る)?"
    r"|ですか|ください|下さい)?"
)
_EN_STOPWORDS = {"as", "at", "by", "held", "in", "of", "set", "for", "from", "on", "with", "to"}

# UI strings of the answers, Japanese and English side by side.


@dataclass(frozen=True)
class KpiQuery:
    """A recognised KPI question: its kind, the KPIs it names and the fiscal years it asks about."""

    kind: KpiKind
    kpi_ids: tuple[str, ...] = ()
    fiscal_years: tuple[int, ...] = ()
    aspect: Aspect = ""  # least, largest rise, worst, per year, the rate's change in points
    threshold: int | None = None  # 初めて1,000件を超えた年: the figure passed


def _reading(text: str) -> str:
    """Replace the known kanji words of normalized text by their kana reading."""
    return _READING_PATTERN.sub(lambda match: _READINGS[match.group(0)], text)


def _mask(text: str) -> int:
    """A bit set of the characters of a text (code points folded onto 251 bits), for a quick bound."""
    mask = 0
    for char in set(text):
        mask |= 1 << (ord(char) % 251)
    return mask


def _variants(words: Iterable[str]) -> list[str]:
    """Normalized words and their kana readings, for patterns matched on both forms of a message."""
    out: list[str] = []
    for word in words:
        norm = normalize(word)
        out.extend(dict.fromkeys((norm, _reading(norm))))
    return out


def _compile(words: Iterable[str], regexes: Iterable[str] = ()) -> re.Pattern[str]:
    # Words may carry a lookahead (目標(?!に)): normalize the literal part only.
    parts: list[str] = list(regexes)
    for word in words:
        literal, _, rest = word.partition("(")
        tail = f"({rest}" if rest else ""
        parts.extend(re.escape(variant) + tail for variant in _variants([literal]))
    return re.compile("|".join(parts))


_STRONG_PATTERN = _compile(_STRONG, _STRONG_REGEX)
_WEAK_PATTERN = _compile(_WEAK)
# 「目標達成してる？」 asks about the plan's targets as a whole (「目標達成したい」 is the writer's own wish)
_META_PATTERN = _compile(_META, [r"目標(は|を|って)?(全部|すべて|ぜんぶ)?達成(し|でき)て(る|い|ま)",
                                 r"目標に届いて(る|い|ま)"])
_EXPLICIT_PATTERN = _compile(_EXPLICIT)
_YEAR_CONTEXT_PATTERN = _compile(_YEAR_CONTEXT)
_UNMET_PATTERN = _compile(_UNMET, [  # every politeness: 達成していません, 届いておらず, 達成できませんでした
    r"(達成|到達)(し|でき)て(い|お)(ない|ません|らず)", r"届いて(い|お)(ない|ません|らず)",
    r"届(か|き)(なかった|ません)", r"(達成|到達)(し|でき)(なかった|ません)"])
_PERSONAL_PATTERN = _compile(_PERSONAL)
# What is asked of a KPI beyond its figures: a comparison of years, the most or least, the cumulative result up to
# a year and what remains to the target, the year the target was passed, the KPI furthest ahead or behind.
_COMPARE_PATTERN = _compile([
    "比べ", "比較", "差", "増え", "減っ", "減り", "伸び", "前年比", "前年度比", "対前年", "増加", "減少", "変化",
    "増減", "より多", "より少", "違う", "違い", "ちがう", "ちがい", "compare", "difference", "grow", "increase",
    "decrease", "change", "versus", "vs",
    "rise", "rose", "fell", "drop", "jump", "higher", "lower", "than in", "more than",
    "fewer than", "less than", "went up", "went down", "go up", "go down", "上が", "下が", "上昇", "低下", "ポイント",
    "percentage point", "倍になっ", "倍増", "doubled",
], [r"より.{0,6}(多|少|増|減)", r"(?<!o)fall"])  # "fall", not "of all" (the text has no spaces)
# The change of the rate (進捗率) between two years, in percentage points.
_POINTS_PATTERN = _compile(["ポイント", "percentage point", "points"], [r"(?<![a-z])pt(?![a-z])"])
_TARGET_PATTERN = _compile(["目標", "target", "goal"])
_PERCENT_ASKED = re.compile(r"何\s*[%％]|何割|what percent|what %", re.IGNORECASE)  # normalizing drops the ％
_PREVIOUS_PATTERN = _compile(["前年比", "前年度比", "前年より", "前年度より", "前の年より", "昨年度より", "前年から",
                              "前年度から", "than the previous year", "than the year before", "from the previous year",
                              "year on year", "year-on-year"])
_MOST_PATTERN = _compile(["一番多", "最多", "最大", "ピーク", "一番たくさん", "一番大き", "一番高", "最高", "一番増",
                          "一番伸", "一番進んだ年", "highest", "largest", "maximum", "best year", "high point",
                          "top year", "record year", "biggest", "greatest"],
                         [r"(?<!al)most", "peak"])  # not "almost": the text has no spaces
_LEAST_PATTERN = _compile(["一番少な", "最少", "最小", "低調", "振るわな", "ふるわな",
                           "ゼロだった", "ゼロの年", "0だった", "一番低", "最低",
                           "一番小さ", "一つもな", "ひとつもな", "1つもな", "なかった年",
                           "lowest", "fewest", "smallest", "zero", "minimum", "weakest", "worst year", "low point"],
                          [r"(?<!at)least"])  # not "at least"
# Years named by their place in the plan's data (the first year, the last year of the plan, the first two years).
# Matched on the NFKC lower-case text; found, they are blanked before the years are parsed ("last year of the plan"
# is FY2023, not last year from today; beside "the first year", "the last year" is the plan's too).
_PLAN_FIRST = re.compile(r"(?:the\s*)?first\s*(two|three|2|3)?\s*(?:fiscal\s*)?years?|初年度|最初の(2|二|3|三)?年"
                         r"|(?:期間|計画)の前半の?(2|二)?(?:年間?)?|前半の?(2|二)年|(?:the\s*)?first(?=\s*(?:and|&|to|vs\.?)\s*(?:the\s*)?(?:last|final))")
_PLAN_LAST = re.compile(r"(?:the\s*)?(?:last\s*year\s*of\s*(?:the\s*)?(?:plan|period|programme|program)|final\s*year"
                        r"|most\s*recent\s*year|latest\s*year)|最終年度|最新の?年度|直近の?年度")
_PLAN_LAST_BESIDE_FIRST = re.compile(rf"{_PLAN_LAST.pattern}|(?:the\s*)?last\s*year")
# The last years of the plan (最後の2年間, 後半, "the last two years"), and the year before its last.
_PLAN_LAST_SEVERAL = re.compile(r"最後の(2|二|3|三)年|(?:期間|計画)の後半の?(2|二)?(?:年間?)?"
                                r"|後半の?(2|二)年|(?:the\s*)?(?:last|final)\s*(two|three|2|3)\s*(?:fiscal\s*)?years")
_PLAN_PENULTIMATE = re.compile(r"最終年度の(?:前年度?|前の年)|(?:the\s*)?(?:year\s*before\s*(?:the\s*)?(?:last|final)"
                               r"(?:\s*year)?\s*of\s*(?:the\s*)?(?:plan|period|programme|program)|penultimate\s*year)")
# The plan's Nth year: 2年目 (not 立ち上げて2年目, 入社2年目), "the second year of the plan" (a bare "second year"
# too: the plan has no other).
_PLAN_NTH = re.compile(r"(?<![てで社職業婚])(1|2|3|4|一|二|三|四)年目"
                       r"|(?:the\s*)?(second|third|fourth|2nd|3rd|4th)\s*(?:fiscal\s*)?year")
_PLAN_COUNT = {"two": 2, "2": 2, "二": 2, "three": 3, "3": 3, "三": 3, "1": 1, "一": 1, "4": 4, "四": 4,
               "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_SINCE_PATTERN = _compile(["since", "以降", "から今まで", "から現在", "から最新"])  # FY2020 onwards, not up to it
# A sum over the years named (R3〜R5の合計, R2とR3を足すと), not the cumulative result from the first year.
_SUM_PATTERN = _compile(["合計", "足す", "足し", "合わせ", "総数", "総計", "total", "combined", "altogether",
                         "add up", "added up"], [r"sum(?!mar)"])
_RISE_PATTERN = _compile(["伸び", "増加", "増え", "growth", "increase", "grew", "grow", "rise", "jump"],
                        [r"gain(?!st)"])  # not "against" (the text has no spaces)
_AVERAGE_PATTERN = _compile(["平均", "ならす", "ならし", "1年あたり", "一年あたり", "年あたり", "average", "per year",
                             "a year on average"])
_CUMULATIVE_PATTERN = _compile(["累計", "まで", "末時点", "時点", "cumulative", "so far", "up to", "by the end of",
                                "as of the end"],
                               # not "through the programme"; "by FY2022", not "by fiscal year"
                               [r"through(fy|fiscal|20\d\d|r\d|reiwa|theend)",
                                r"by(theendof)?(fy|fiscal|reiwa|r)?(20\d\d|\d)(?!\d)"])
_REMAINING_PATTERN = _compile(["あと何", "残り", "上回", "超え", "超過", "おーばー", "足りな", "不足", "still needed",
                               "to reach the", "left to reach", "more needed", "overshoot", "overshot",
                               "remain", "short of", "exceed", "surplus", "beyond", "over the target",
                               "above the target", "above target", "over target", "beat the target", "beat target",
                               "than target", "than the target"],
                              # regular expressions match the normalized text, which has no spaces
                              [r"howmanymore.{0,40}(toreach|needed|togo|left|remain)",
                               r"leftto(hit|reach|meet|go|the|its)",
                               r"beatthe(target|goal)",
                               r"(above|over|beyond|exceed\w*|outperform\w*)(the|its)?(target|goal)",
                               r"目標(より|に比べ|と比べ|と比較).{0,8}(多|少|上|下|差)", r"目標(と|と?の)(差|開き)",
                               r"(gap|difference)(to|from|with)thetarget"])
_REACHED_PATTERN = _compile(["達成", "到達", "突破", "クリア", "達した", "達しま", "届いた", "届きま", "超えた",
                             "超えま", "reach", "hit the",
                             "met the", "achieved", "pass", "exceeded", "surpass", "crossed"])
_WHICH_YEAR_PATTERN = _compile(["どの年", "何年度", "いつ", "which year", "what year", "which fiscal year",
                                "what fiscal year", "when"],
                               # 超えた年度と…
                               [r"(超え|達成し|到達し|突破し|達し|届い|くりあし|上回っ)(た|ました)(年度|年|時|とき|のは)"])
# Now, beside a year asked about: the total up to now is wanted, not up to that year.
_NOW_PATTERN = re.compile(r"今(?!年|月|度|回|後|まで)|いま(?=どれ|どの|どう|の(?:累計|進捗|実績|状況))|現在|現時点|now"
                          r"|currently|todate|atpresent")  # not the いま of いました
# A figure a KPI passed for the first time (初めて1,000件を超えた年), other than its target.
_FIRST_TIME_PATTERN = _compile(["初めて", "はじめて", "first time", "firsttime", "first year"])
_THRESHOLD = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d{2,6})(?![\d.,]|\s*(?:年|%|％|ねん|ポイント|points?))")
_BEST_PATTERN = _compile(["一番進んで", "進捗が一番良", "進捗が一番いい", "一番順調",
                          "best progress", "furthest ahead", "most progress"])
_WORST_PATTERN = _compile(["進捗が悪", "進捗が一番悪", "一番遅れ", "遅れている", "worst progress",
                           "most behind", "least progress", "furthest behind"])
# KPIs set against each other, not years: which of them is higher, their gap, their order.
_WHICH_KPI_PATTERN = _compile(["どちら", "どっち", "どれが", "どれも", "どの指標", "どのkpi", "どの項目", "順位",
                               "順番", "ランキング", "並べ", "which", "rank", "order", "ahead of", "behind", "vs",
                               "versus"],
                              ["4つ", "四つ", "全指標", "全kpi", "allthe(kpi|indicator)",
                               "allfour", "of(the|all)?(kpi|indicator)", "どれ(?!くらい|ほど|だけ)"])
_BETWEEN_PATTERN = _compile(["比べ", "比較", "差", "開き", "高い", "低い", "上回", "下回", "多い", "少ない", "gap",
                             "difference", "higher", "lower", "more", "fewer", "greater", "bigger", "better", "worse"])
_SINGLE_YEAR_PATTERN = _compile(["単年", "各年度", "年度別", "single-year", "single year", "singleyear", "in one year",
                                 "in a single", "any one year", "any single year", "yearly rate", "annual rate"])
_COUNT_ASKED_PATTERN = _compile(["何件", "何人", "何名", "件数で", "人数で", "数で", "数では", "how many",
                                 "by how much", "howmuchmore"])
# A year's part of the whole (令和2年度の分は合計の何％), and one figure as a multiple of another (何倍).
_SHARE_PATTERN = _compile(["占め", "share of", "proportion of", "share", "全体の何", "合計の何", "累計の何"],
                          [r"のうち.{0,24}(何[%％]?|割合|何割)", r"what(percent|%)ofall"])
_RATIO_PATTERN = _compile(["何倍", "times as", "times more", "how many times"])
# The year a KPI fell (ジョブカフェ 減った年): the smallest change from the year before.
_FELL_PATTERN = _compile(["減っ", "減り", "減少", "下が", "落ち込", "fell", "drop", "decrease", "decline", "went down"])
# The superlative adverbs, folded into one before the patterns are matched: 最も / いちばん / もっとも → 一番, so that a
# pattern written with one (一番大き) reads them all (いちばん大きかった, 最も大きかった).
_SUPERLATIVE = re.compile(r"いちばん|最も|もっとも|いっちゃん|一等")
_FELL_YEAR_PATTERN = _compile(["減った年", "減少した年", "下がった年", "落ちた年", "year it fell", "year it dropped",
                               "year it went down", "一番減", "一番下が", "一番落ち", "一番マイナス",
                               "biggest drop", "largest drop", "biggest fall", "largest fall", "fell the most",
                               "dropped the most", "biggest decrease", "largest decrease", "greatest drop",
                               "greatest fall", "greatest decrease", "sharpest drop", "sharpest fall", "steepest drop",
                               "steepest fall",
                               "biggest decline", "largest decline", "sharpest decline", "下回った年", "前年度を下回",
                               "前年を下回", "前年割れ", "前年度割れ", "減少に転じ", "マイナスになった年",
                               "前年より少なかった年", "前年度より少なかった年"])
_ANY_RELATIVE = re.compile(r"(一昨|再来|今|本|当|昨|前|来|翌|次|去)年度?|おととし|(this|last|next|previous) year")
_RELATIVE_WORDS = re.compile(r"(今年度|本年度|当年度|昨年度|前年度|前年|前の年|翌年度|翌年|次の年度|次年度|次の年"
                             r"|(?:the )?(?:previous|prior|preceding) (?:fiscal )?year|(?:the )?year before"
                             r"|(?:the )?(?:following|next) (?:fiscal )?year|(?:the )?year after)", re.IGNORECASE)
_SUPPOSE = re.compile(r"(とすると|とした(場合|ら)|として|が今年度|を今年度|だとして|だとすると)")
_OF_PREVIOUS = re.compile(r"(年度|年)の(前年度|前年|前の年)(?!度?(比|から|より|と(の)?比))")  # not 前年度からの伸び
_OF_NEXT = re.compile(r"(年度|年)の(翌年度|翌年|次の年度|次年度|次の年)")


def _english_head(name_en: str) -> str:
    """The first words of an English KPI name, up to a preposition: "Job placements as …" → "job placements"."""
    words: list[str] = []
    for word in name_en.lower().split():
        if word in _EN_STOPWORDS:
            break
        words.append(word)
    return " ".join(words) if len(words) >= 2 else ""


def _number(value: int | Decimal) -> str:
    if isinstance(value, Decimal) and value != value.to_integral_value():
        return f"{value:,.1f}"
    return f"{int(value):,}"


def _singular(unit: str) -> str:
    if unit == "people":
        return "person"
    if unit.endswith("ies"):
        return unit[:-3] + "y"
    return unit[:-1] if unit.endswith("s") else unit


def _quantity(value: int | Decimal, kpi: Kpi, lang: str) -> str:
    """A number with the KPI's unit: 3,300件 / 3,300 placements."""
    if lang == "en":
        unit = kpi.unit_en or kpi.unit
        return f"{_number(value)} {_singular(unit) if value == 1 else unit}"
    return f"{_number(value)}{kpi.unit}"


def _growth(change: int, before: int) -> Decimal | None:
    """A change as a percentage of the figure before it, to 0.1 (None when that figure is 0)."""
    if not before:
        return None
    return (Decimal(change) * 100 / Decimal(before)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def progress_bar(rate: Decimal) -> str:
    """A 10-cell text bar of a percentage, full only at 100% or more: 23.7 → ▓▓░░░░░░░░."""
    filled = min(BAR_CELLS, max(0, int(rate // 10)))
    return BAR_FULL * filled + BAR_EMPTY * (BAR_CELLS - filled)


def kpi_name(kpi: Kpi, lang: str) -> str:
    """The KPI's name in `lang`; in English with the Japanese name in brackets."""
    if lang == "en" and kpi.name_en:
        return f"{kpi.name_en} ({kpi.name})"
    return kpi.name


def kpi_short_name(kpi: Kpi, lang: str) -> str:
    """The KPI's everyday name for answers that set KPIs side by side (its full name when it has none)."""
    return kpi.short_name.get(lang) if kpi.short_name else kpi_name(kpi, lang)


def _relative_shift(word: str) -> int:
    """How far a relative word lies from the year it refers to: 前年度 −1, 今年度 0, 翌年度 / the year after +1."""
    word = word.lower().removeprefix("the ")
    if word.startswith(("今", "本", "当")):
        return 0
    return 1 if word.startswith(("翌", "次", "following", "next", "year after")) else -1


class KpiAnswers:
    """Recognises KPI questions and answers them from one catalog; build once, reuse for every message."""

    def __init__(self, catalog: Catalog, translator: Translator | None = None) -> None:
        self.catalog = catalog
        self._translator = translator or Translator()
        self._rewriter = SynonymRewriter(group.words for group in catalog.synonyms.values())
        self._exact: list[tuple[str, str]] = []  # (alias form, KPI id)
        self._fragments: list[tuple[str, str]] = []  # (short name form, KPI id): only with a year or figure word
        self._fuzzy: list[tuple[str, str, int]] = []  # (alias form, KPI id, character mask)
        self._name_patterns = [(re.compile(pattern), kpi.id) for kpi in catalog.kpis.values()
                               for pattern in kpi.name_patterns]
        for kpi in catalog.kpis.values():
            names = [kpi.name, *kpi.aliases]
            if kpi.name_en:
                names += [kpi.name_en, _english_head(kpi.name_en)]
            forms: dict[str, None] = {}
            for name in names:
                canonical = self._rewriter.canonical(name)
                if canonical:
                    forms.update(dict.fromkeys((canonical, _reading(canonical))))
            self._exact.extend((form, kpi.id) for form in forms)
            for fragment in kpi.fragments:
                canonical = self._rewriter.canonical(fragment)
                self._fragments.extend((form, kpi.id) for form in dict.fromkeys((canonical, _reading(canonical))))
            self._fuzzy.extend((form, kpi.id, _mask(form)) for form in forms if len(form) >= _FUZZY_MIN_LENGTH)
        self._years = sorted({item.fiscal_year for kpi in catalog.kpis.values() for item in kpi.yearly})

    # --- recognition ----------------------------------------------------------------------------------------

    def match_kpis(self, text: str) -> tuple[str, ...]:
        """Return the ids of the KPIs named in `text` (exactly or with a small typo), in order of mention."""
        canonical = self._rewriter.rewrite(normalize(text))
        return self._match(tuple(dict.fromkeys((canonical, _reading(canonical)))))

    def _match(self, forms: Sequence[str]) -> tuple[str, ...]:
        found: dict[str, int] = {}  # KPI id → position of its first mention
        for alias, kpi_id in self._exact:
            for form in forms:
                position = form.find(alias)
                if position >= 0 and position < found.get(kpi_id, len(form) + 1):
                    found[kpi_id] = position
        for form in (form for form in forms if len(form) <= _FUZZY_MAX_LENGTH):
            absent = ~_mask(form)
            for alias, kpi_id, alias_mask in self._fuzzy:
                if kpi_id in found:
                    continue
                # Cheap bound first: each alias character missing from the message is one that cannot match.
                matchable = len(alias) - (alias_mask & absent).bit_count()
                if 200 * matchable < _FUZZY_CUTOFF * (len(alias) + min(len(alias), len(form))):
                    continue
                position = self._fuzzy_position(alias, form)
                if position is not None:
                    found[kpi_id] = position
        order = list(self.catalog.kpis)
        return tuple(sorted(found, key=lambda kpi_id: (found[kpi_id], order.index(kpi_id))))

    @staticmethod
    def _fuzzy_position(alias: str, form: str) -> int | None:
        if len(form) < len(alias):
            # partial_ratio would look for the short message inside the alias: 「さぽすて」 ⊂ 「さぽすての相談」.
            return 0 if fuzz.ratio(alias, form, score_cutoff=_FUZZY_CUTOFF) else None
        alignment = fuzz.partial_ratio_alignment(alias, form, score_cutoff=_FUZZY_CUTOFF)
        return alignment.dest_start if alignment is not None else None

    def _text(self, key: str, lang: str, **values: object) -> str:
        """Return a KPI answer string from the locale files (keys `kpi_*`)."""
        return self._translator.t(f"kpi_{key}", lang, **values)

    def detect(self, text: str, today: date, plain: str | None = None, standard: str = "") -> KpiQuery | None:
        """Recognise a KPI question in a typed message (`plain`: its normalized form, `standard`: its dialect read)."""
        plain = normalize(text) if plain is None else plain
        if not plain:
            return None
        # いぢばん多がった (Tsugaru) is いちばん多かった: its words are looked for in the standard form too
        signal_forms = tuple(dict.fromkeys(_SUPERLATIVE.sub("一番", form) for form in
                                           (plain, _reading(plain), *((standard,) if standard else ()))))

        def has(pattern: re.Pattern[str]) -> bool:
            return any(pattern.search(form) for form in signal_forms)

        canonical = self._rewriter.rewrite(plain)
        name_forms = tuple(dict.fromkeys((canonical, _reading(canonical))))
        kpi_ids = self._match(name_forms)
        plan_years, text = self._plan_years(text)
        years = self._years_asked(text, plain, today) + plan_years
        if len(years) == 1 and has(_SINCE_PATTERN):  # "since FY2020": that year and every later one with data
            years = tuple(year for year in self._years if year >= years[0]) or years
        # 知りたい, "i want to know": asking, not the writer's own wish
        own_life = any(_PERSONAL_PATTERN.search(_ASKING.sub("", form)) for form in signal_forms) \
            or bool(_WISH.search(_ASKING.sub("", plain)))
        figure_wanted = has(_STRONG_PATTERN) or has(_UNMET_PATTERN) or has(_MOST_PATTERN) or has(_LEAST_PATTERN) \
            or has(_REMAINING_PATTERN) or has(_FELL_YEAR_PATTERN) \
            or (has(_COMPARE_PATTERN) and bool(years)) \
            or (has(_WHICH_YEAR_PATTERN) and has(_FIRST_TIME_PATTERN) and self._threshold(text, ()) is not None) \
            or bool(_PERCENT_ASKED.search(text)) \
            or (("%" in text or "％" in text) and len(plain) <= 40)  # "counselling 2023 %"
        named_year = bool(parse_fiscal_years(_ANY_RELATIVE.sub(" ", text), today)) or bool(plan_years)
        # "… in R4? i need it for report": a figure word and a year outweigh the writer's own words.
        fragments_count = not own_life or (figure_wanted and named_year)
        if not kpi_ids and fragments_count and (named_year or figure_wanted or has(_WEAK_PATTERN)):
            # 「R4 正社員」「サポステ 一番多い年」: a short name counts next to a year or a figure word.
            kpi_ids = self._fragments_in(name_forms, ())
            kpi_ids += tuple(kpi_id for pattern, kpi_id in self._name_patterns
                             if kpi_id not in kpi_ids and pattern.search(canonical))
            if not kpi_ids and len(canonical) <= _FUZZY_MAX_LENGTH:  # "support staion counceling", "platfroms"
                kpi_ids = tuple(dict.fromkeys(kpi_id for alias, kpi_id in self._fragments
                                              if len(alias) >= _FUZZY_FRAGMENT_LENGTH
                                              and self._fuzzy_position(alias, canonical) is not None))
        elif kpi_ids and fragments_count:  # "Job Cafe registrations and the counselling sessions": both
            kpi_ids += self._fragments_in(name_forms, kpi_ids)
        if len(kpi_ids) >= 2 and not own_life and len(years) <= 1 and not has(_PREVIOUS_PATTERN) \
                and (has(_WHICH_KPI_PATTERN) or has(_BETWEEN_PATTERN) or has(_POINTS_PATTERN) or has(_RATIO_PATTERN)):
            # 「R5はジョブカフェとサポステのどちらが進んでいる？」: the KPIs set against each other, by their rates
            if years and has(_CUMULATIVE_PATTERN):  # 令和4年度末時点の累計で: every year up to it
                years = tuple(year for year in self._years if year <= years[0]) or years
            least = has(_LEAST_PATTERN) or has(_WORST_PATTERN)
            return KpiQuery("between", kpi_ids, years, "ratio" if has(_RATIO_PATTERN) else
                            "count" if has(_COUNT_ASKED_PATTERN) else "worst" if least else "")
        if kpi_ids:
            if figure_wanted or (not own_life and (has(_WEAK_PATTERN) or years)):
                if not years and has(_PREVIOUS_PATTERN) and not has(_MOST_PATTERN) and not has(_LEAST_PATTERN):
                    years = tuple(self._years[-1:])  # 「就職件数 前年比」: the latest year against the one before
                if has(_FELL_YEAR_PATTERN):  # 「ジョブカフェ 減った年」
                    return KpiQuery("extreme", kpi_ids, years, "least_rise")
                threshold = self._threshold(text, kpi_ids) if has(_WHICH_YEAR_PATTERN) else None
                if threshold is not None and (has(_FIRST_TIME_PATTERN) or has(_REACHED_PATTERN)):
                    # 「初めて1,000件を超えたのはいつ」: each year's figure (the running total when 累計 is asked)
                    return KpiQuery("crossed", kpi_ids, (), "sum" if has(_CUMULATIVE_PATTERN) else "", threshold)
                aspect: Aspect = (
                    "share" if has(_SHARE_PATTERN) and not has(_COMPARE_PATTERN) else
                    "sum" if has(_SUM_PATTERN) and len(years) >= 2 else
                    "least_rise" if has(_LEAST_PATTERN) and has(_RISE_PATTERN) else
                    "least" if has(_LEAST_PATTERN) else "points" if has(_POINTS_PATTERN) else
                    "rise" if has(_RISE_PATTERN) else "average" if has(_AVERAGE_PATTERN) else "")
                kind = "one" if aspect == "share" else self._kind(has, years)
                if kind == "cumulative" and len(years) == 1 and has(_NOW_PATTERN) and not aspect:
                    kind = "one"  # 「令和3年度にいくつで、累計は今どれくらい？」: that year, then the total up to now
                return KpiQuery(kind, kpi_ids, years, aspect)
            return None
        ranked = has(_BEST_PATTERN) or has(_WORST_PATTERN) \
            or (has(_WHICH_KPI_PATTERN) and (has(_MOST_PATTERN) or has(_LEAST_PATTERN)))
        if not own_life and ranked:  # 「一番遅れているKPIは？」「4指標で単年度の進捗率が最も高いのは」
            worst = has(_WORST_PATTERN) or (has(_LEAST_PATTERN) and not has(_MOST_PATTERN))
            aspect = "rise" if has(_RISE_PATTERN) else "worst" if worst else \
                "single" if not years and has(_SINGLE_YEAR_PATTERN) else ""
            return KpiQuery("best", (), years, aspect)
        if not own_life and years and has(_COMPARE_PATTERN) and (has(_PREVIOUS_PATTERN) or has(_RISE_PATTERN)
                                                                 or has(_FELL_PATTERN)):
            return KpiQuery("compare", tuple(self.catalog.kpis), years)  # 「令和5年度に前年度より減ったKPIは？」
        if own_life and not has(_EXPLICIT_PATTERN):
            return None
        if has(_UNMET_PATTERN):
            return KpiQuery("unmet", (), years)
        if years and has(_CUMULATIVE_PATTERN) and figure_wanted:  # 「令和4年度時点の累計は？」: every KPI up to it
            return KpiQuery("cumulative", tuple(self.catalog.kpis), years)
        if years and has(_YEAR_CONTEXT_PATTERN):
            return KpiQuery("year", (), years)
        if has(_META_PATTERN) or _BARE.fullmatch(plain):
            return KpiQuery("list", (), years)
        return None

    def _threshold(self, text: str, kpi_ids: Sequence[str]) -> int | None:
        """A figure named in the question that is neither a year nor a KPI's target (初めて1,000件を超えた)."""
        targets = {self.catalog.kpis[kpi_id].target for kpi_id in kpi_ids}
        for found in _THRESHOLD.finditer(unicodedata.normalize("NFKC", text)):
            value = int(found.group(1).replace(",", ""))
            year_like = 1989 <= value <= 2099 and "," not in found.group(1)
            if not year_like and value not in targets:
                return value
        return None

    def _fragments_in(self, forms: Sequence[str], found: Sequence[str]) -> tuple[str, ...]:
        """The KPIs whose short names stand in the message, besides those already `found`."""
        return tuple(dict.fromkeys(kpi_id for alias, kpi_id in self._fragments
                                   if kpi_id not in found and any(alias in form for form in forms)))

    def _plan_years(self, text: str) -> tuple[tuple[int, ...], str]:
        """The years named by their place in the plan ("the first year", 最終年度), and the text without those words."""
        lowered = unicodedata.normalize("NFKC", text).lower()
        years: list[int] = []

        def count(found: re.Match[str], default: int) -> int:
            return _PLAN_COUNT.get(next((group for group in found.groups() if group), ""), default)

        if _PLAN_PENULTIMATE.search(lowered):
            years.append(self._years[-2] if len(self._years) >= 2 else self._years[-1])
        lowered = _PLAN_PENULTIMATE.sub(" ", lowered)
        for found in _PLAN_FIRST.finditer(lowered):
            default = 2 if "前半" in found.group(0) else 1  # 前半: the first half of a four-year plan
            years += self._years[:count(found, default)]
        for found in _PLAN_NTH.finditer(lowered):
            place = count(found, 1)
            if place <= len(self._years):
                years.append(self._years[place - 1])
        for found in _PLAN_LAST_SEVERAL.finditer(lowered):
            years += self._years[-count(found, 2):]
        lowered = _PLAN_LAST_SEVERAL.sub(" ", _PLAN_NTH.sub(" ", _PLAN_FIRST.sub(" ", lowered)))
        last = _PLAN_LAST_BESIDE_FIRST if years else _PLAN_LAST
        if last.search(lowered):
            years.append(self._years[-1])
        if not years:
            return (), text
        return tuple(sorted(set(years))), last.sub(" ", lowered)

    @staticmethod
    def _kind(has: Callable[[re.Pattern[str]], bool], years: Sequence[int]) -> KpiKind:
        """What is asked of the KPIs named: a comparison, an extreme, the cumulative result, or their figures."""
        if has(_WHICH_YEAR_PATTERN) and (has(_REMAINING_PATTERN) or (has(_TARGET_PATTERN) and has(_REACHED_PATTERN))):
            return "crossed"  # 何年度に累計で目標を達成した？
        if has(_SUM_PATTERN) and len(years) != 1 and not has(_MOST_PATTERN) and not has(_LEAST_PATTERN):
            return "cumulative"  # 4年間の合計, R3〜R5の合計 (the years named, summed); "the total in FY2022" is one
        if has(_MOST_PATTERN) or has(_LEAST_PATTERN):
            return "extreme"
        if has(_AVERAGE_PATTERN):
            return "cumulative"  # 1年あたり平均何件？: the cumulative result divided by its years, then the total
        if len(years) >= 2 and has(_COMPARE_PATTERN) and not has(_REMAINING_PATTERN):
            return "compare"  # 令和2年度から令和5年度までの伸び率: two years compared, not a running total
        if not years and has(_TARGET_PATTERN) and (has(_CUMULATIVE_PATTERN) or has(_COMPARE_PATTERN)):
            return "cumulative"  # "cumulative … compared with the target", 目標と比べてどう: not two years
        if has(_REMAINING_PATTERN) or (years and has(_CUMULATIVE_PATTERN)):
            return "cumulative"
        if has(_COMPARE_PATTERN) or (len(years) == 1 and has(_PREVIOUS_PATTERN)):
            return "compare"
        return "one"

    @staticmethod
    def _years_asked(text: str, plain: str, today: date) -> tuple[int, ...]:
        """The fiscal years asked about; 前年度 and 今年度 count from a year the question names, not from today."""
        years = parse_fiscal_years(text, today)
        absolute = parse_fiscal_years(_RELATIVE_WORDS.sub(" ", text), today)
        relative = _RELATIVE_WORDS.findall(text)
        if not absolute or not relative:
            return tuple(years)
        anchor = absolute[0]
        if _OF_PREVIOUS.search(plain) and len(absolute) == 1 and not _SUPPOSE.search(plain):
            return (anchor - 1,)  # 令和4年度の前年度
        if _OF_NEXT.search(plain) and len(absolute) == 1 and not _SUPPOSE.search(plain):
            return (anchor + 1,)  # 令和2年度の翌年度
        supposed = _SUPPOSE.search(plain)
        if supposed:  # 「令和5年度を今年度とすると、前年度の…」: the named year only sets 今年度; what follows is asked
            relative = _RELATIVE_WORDS.findall(plain[supposed.end():]) or relative
        shifted = [anchor + _relative_shift(word) for word in relative]
        if supposed:
            return tuple(dict.fromkeys(shifted))
        return tuple(dict.fromkeys([*absolute, *shifted]))

    # --- answers --------------------------------------------------------------------------------------------

    def answer(self, query: KpiQuery, lang: str = "ja") -> str:
        """Compose the plain-text reply to a KPI question, with every figure computed from the catalog."""
        kpis = [self.catalog.kpis[kpi_id] for kpi_id in dict.fromkeys(query.kpi_ids) if kpi_id in self.catalog.kpis]
        if query.kind == "best":
            return self._ranked(list(self.catalog.kpis.values()), query, lang)
        if query.kind == "between" and len(kpis) >= 2:
            return self._ranked(kpis, query, lang)
        if kpis and query.kind in ("compare", "extreme", "cumulative", "crossed"):
            special = {"compare": self._compare, "extreme": self._extreme, "cumulative": self._cumulative,
                       "crossed": self._crossed}[query.kind]
            return "\n\n".join(special(kpi, query, lang) for kpi in kpis)
        if query.kind == "one" and kpis:
            return "\n\n".join(self._one(kpi, query.fiscal_years, lang, query.aspect) for kpi in kpis)
        if query.kind == "year" and query.fiscal_years:
            return self._year(query.fiscal_years, lang)
        if query.kind == "unmet":
            return self._unmet(bool(query.fiscal_years), lang)
        return self._list(lang)

    def summary_lines(self, lang: str = "ja") -> list[str]:
        """One short line per KPI: cumulative result, target, rate and whether it is achieved."""
        lines = []
        for kpi in self.catalog.kpis.values():
            total = sum(item.result for item in kpi.yearly)
            lines.append(self._text(
                "summary_line", lang, name=kpi_name(kpi, lang), value=_quantity(total, kpi, lang),
                target=_quantity(kpi.target, kpi, lang), rate=rate_percent(total, kpi.target),
                status=self._status(kpi, total, lang),
            ))
        return lines

    def unmet_kpis(self) -> list[Kpi]:
        """The KPIs whose cumulative result (the sum of the yearly results) is below target."""
        return [kpi for kpi in self.catalog.kpis.values() if sum(item.result for item in kpi.yearly) < kpi.target]

    def _period(self, lang: str, kpi: Kpi | None = None) -> str:
        years = [item.fiscal_year for item in kpi.yearly] if kpi is not None else self._years
        return fiscal_years_label(years, lang)

    def _status(self, kpi: Kpi, total: int, lang: str) -> str:
        if total >= kpi.target:
            return self._text("achieved", lang, surplus=_quantity(total - kpi.target, kpi, lang))
        return self._text("not_achieved", lang, gap=_quantity(kpi.target - total, kpi, lang))

    def _missing_note(self, missing: Sequence[int], available: Sequence[int], lang: str) -> str:
        return self._text("no_data", lang, missing=fiscal_years_label(missing, lang),
                          available=fiscal_years_label(available, lang), first=fiscal_year_label(min(available), lang),
                          latest=fiscal_year_label(max(available), lang))

    def _one(self, kpi: Kpi, fiscal_years: Sequence[int], lang: str, query_aspect: Aspect = "") -> str:
        available = [item.fiscal_year for item in kpi.yearly]
        asked = sorted(set(fiscal_years)) if fiscal_years else available
        shown = [year for year in asked if year in available]
        missing = [year for year in asked if year not in available]
        lines = [kpi_name(kpi, lang)]
        if shown:  # the figures asked for, in a first sentence; the table follows
            total = sum(item.result for item in kpi.yearly)
            parts = [self._text("one_year_part", lang, label=fiscal_year_label(year, lang),
                                value=_quantity(self._value(kpi, year), kpi, lang),
                                rate=rate_percent(self._value(kpi, year), kpi.target))
                     for year in shown] if fiscal_years else [
                self._text("one_total_part", lang, period=self._period(lang, kpi), value=_quantity(total, kpi, lang),
                           target=_quantity(kpi.target, kpi, lang), rate=rate_percent(total, kpi.target))]
            lines = [self._text("one_headline", lang, name=kpi_name(kpi, lang),
                                figures=("、" if lang == "ja" else "; ").join(parts))]
        if shown and query_aspect == "share":
            lines = [self._share(kpi, shown, lang)]
        if not shown:
            lines.append(self._missing_note(missing, available, lang))
            nearest = min(available, key=lambda year: abs(year - missing[0]))  # 令和6年度 → 令和5年度's figure
            value = self._value(kpi, nearest)
            lines.append(self._text("nearest", lang, label=fiscal_year_label(nearest, lang),
                                    value=_quantity(value, kpi, lang), rate=rate_percent(value, kpi.target)))
            return "\n".join(lines)
        for year in shown:
            item = kpi.result_for(year)
            assert item is not None  # `shown` holds only the years with a result
            rate = rate_percent(item.result, kpi.target)
            lines.append(self._text("year_line", lang, label=fiscal_year_label(year, lang),
                               value=_quantity(item.result, kpi, lang), rate=rate, bar=progress_bar(rate)))
        total = sum(item.result for item in kpi.yearly)
        rate = rate_percent(total, kpi.target)
        lines.append(self._text("total_line", lang, period=self._period(lang, kpi), value=_quantity(total, kpi, lang),
                           target=_quantity(kpi.target, kpi, lang), rate=rate, bar=progress_bar(rate),
                           status=self._status(kpi, total, lang)))
        lines.append(self._text("pace", lang, pace=_quantity(kpi.yearly_pace, kpi, lang),
                           target=_quantity(kpi.target, kpi, lang), years=len(kpi.yearly)))
        if missing:
            lines.append(self._missing_note(missing, available, lang))
        lines.append(self._text("rate_note", lang, period=self._period(lang, kpi)))
        return "\n".join(lines)

    def _share(self, kpi: Kpi, years: Sequence[int], lang: str) -> str:
        """The years asked as a share of the whole period's total: 令和2年度の分は合計の何％."""
        part = sum(self._value(kpi, year) for year in years)
        total = sum(item.result for item in kpi.yearly)
        share = rate_percent(part, total) if total else Decimal(0)
        return self._text("share", lang, name=kpi_name(kpi, lang), label=fiscal_years_label(years, lang),
                          value=_quantity(part, kpi, lang), period=self._period(lang, kpi),
                          total=_quantity(total, kpi, lang), share=share)

    def _year(self, fiscal_years: Sequence[int], lang: str) -> str:
        asked = sorted(set(fiscal_years))
        shown = [year for year in asked if year in self._years]
        missing = [year for year in asked if year not in self._years]
        blocks = []
        for year in shown:
            lines = [self._text("year_title", lang, label=fiscal_year_label(year, lang))]
            for kpi in self.catalog.kpis.values():
                item = kpi.result_for(year)
                if item is None:
                    lines.append(self._text("year_item_missing", lang, name=kpi_name(kpi, lang)))
                    continue
                rate = rate_percent(item.result, kpi.target)
                lines.append(self._text(
                    "year_item", lang, name=kpi_name(kpi, lang), value=_quantity(item.result, kpi, lang),
                    rate=rate, bar=progress_bar(rate), pace=_quantity(kpi.yearly_pace, kpi, lang)))
            blocks.append("\n".join(lines))
        notes = []
        if missing:
            notes.append(self._missing_note(missing, self._years, lang))
        if shown:
            notes.append(self._text("rate_note", lang, period=self._period(lang)))
        return "\n\n".join([*blocks, "\n".join(notes)])

    def _unmet(self, years_asked: bool, lang: str) -> str:
        unmet = self.unmet_kpis()
        period = self._period(lang)
        if not unmet:
            lines = [self._text("unmet_none", lang, period=period)]
        else:
            plural = "s" if len(unmet) > 1 else ""
            lines = [self._text("unmet_title", lang, period=period, count=len(unmet), plural=plural)]
            for kpi in unmet:
                total = sum(item.result for item in kpi.yearly)
                rate = rate_percent(total, kpi.target)
                lines.append(self._text("unmet_item", lang, name=kpi_name(kpi, lang), value=_quantity(total, kpi, lang),
                                   target=_quantity(kpi.target, kpi, lang), rate=rate, bar=progress_bar(rate),
                                   gap=_quantity(kpi.target - total, kpi, lang)))
        if years_asked:
            lines.append(self._text("unmet_basis", lang))
        return "\n".join(lines)

    def _list(self, lang: str) -> str:
        return "\n".join([self._text("list_title", lang, period=self._period(lang)), *self.summary_lines(lang),
                          self._text("list_hint", lang)])

    # --- comparisons, extremes, cumulative ------------------------------------------------------------------

    def _known(self, kpi: Kpi, years: Sequence[int]) -> tuple[list[int], list[int]]:
        available = [item.fiscal_year for item in kpi.yearly]
        return [year for year in years if year in available], [year for year in years if year not in available]

    def _value(self, kpi: Kpi, year: int) -> int:
        item = kpi.result_for(year)
        assert item is not None
        return item.result

    def _compare(self, kpi: Kpi, query: KpiQuery, lang: str) -> str:
        """Two years of a KPI: the change first, in number and per cent, then both figures."""
        available = [item.fiscal_year for item in kpi.yearly]
        asked = list(query.fiscal_years)
        if len(asked) == 1:
            asked = [asked[0] - 1, asked[0]]  # 前年比: against the year before
        if not asked:
            asked = available  # 「毎年増えてる？」: the whole period, every year shown
        shown, missing = self._known(kpi, asked)
        if len(shown) < 2:
            note = self._missing_note(missing or asked, available, lang)
            if len(available) < 2 or len(query.fiscal_years) > 2:
                return "\n".join([kpi_name(kpi, lang), note])
            # "last year compared to the year before", asked after the data ends: the nearest two years instead
            nearest = available[-2:] if max(asked) > available[-1] else available[:2]
            return "\n".join([note, self._compare(kpi, replace(query, fiscal_years=tuple(nearest)), lang)])
        first, last = min(shown), max(shown)
        before, after = self._value(kpi, first), self._value(kpi, last)
        change = after - before
        percent = _growth(change, before)
        key = "compare_up" if change > 0 else "compare_down" if change < 0 else "compare_same"
        lines = [self._text(key, lang, name=kpi_name(kpi, lang), later=fiscal_year_label(last, lang),
                            earlier=fiscal_year_label(first, lang), diff=_quantity(abs(change), kpi, lang),
                            percent=f"{abs(percent)}%" if percent is not None else "—")]
        rates = {item.fiscal_year: Decimal(item.published_rate.rstrip("%")) for item in kpi.yearly}
        points = rates[last] - rates[first]
        rate_line = self._text("compare_points_up" if points > 0 else "compare_points_down" if points < 0
                               else "compare_points_same", lang, earlier=fiscal_year_label(first, lang),
                               later=fiscal_year_label(last, lang), before=f"{rates[first]}%",
                               after=f"{rates[last]}%", points=abs(points))
        lines += [self._text("compare_line", lang, label=fiscal_year_label(year, lang),
                             value=_quantity(self._value(kpi, year), kpi, lang)) for year in sorted(shown)]
        # Asked about the rate in points: that answer first; otherwise it follows the counts.
        return "\n".join([rate_line, *lines] if query.aspect == "points" else [*lines, rate_line])

    def _extreme(self, kpi: Kpi, query: KpiQuery, lang: str) -> str:
        """The year with the most (or least) of a KPI, or with the largest rise from the year before."""
        items = list(kpi.yearly)
        lines: list[str] = []
        if query.aspect in ("rise", "least_rise") and len(items) >= 2:
            rises = [(items[i].result - items[i - 1].result, items[i]) for i in range(1, len(items))]
            rise, item = (min if query.aspect == "least_rise" else max)(rises, key=lambda pair: pair[0])
            previous = items[items.index(item) - 1].result
            percent = _growth(abs(rise), previous)
            change = self._text("change_up" if rise >= 0 else "change_down", lang, diff=_quantity(abs(rise), kpi, lang),
                                percent=f"{percent}%" if percent is not None else "—")
            lines.append(self._text("extreme_rise" if query.aspect == "rise" else "extreme_least_rise", lang,
                                    name=kpi_name(kpi, lang), label=fiscal_year_label(item.fiscal_year, lang),
                                    change=change))
        else:
            least = query.aspect == "least"
            chosen = (min if least else max)(items, key=lambda item: item.result)
            lines.append(self._text("extreme_least" if least else "extreme_most", lang, name=kpi_name(kpi, lang),
                                    label=fiscal_year_label(chosen.fiscal_year, lang),
                                    value=_quantity(chosen.result, kpi, lang),
                                    rate=rate_percent(chosen.result, kpi.target)))
        lines += [self._text("compare_line", lang, label=fiscal_year_label(item.fiscal_year, lang),
                             value=_quantity(item.result, kpi, lang)) for item in items]
        total = sum(item.result for item in kpi.yearly)
        lines.append(self._text("target_line", lang, period=self._period(lang, kpi), value=_quantity(total, kpi, lang),
                                target=_quantity(kpi.target, kpi, lang), rate=rate_percent(total, kpi.target)))
        return "\n".join(lines)

    def _cumulative(self, kpi: Kpi, query: KpiQuery, lang: str) -> str:
        """The cumulative result up to a year (the last by default), against the target: what remains or is over."""
        available = [item.fiscal_year for item in kpi.yearly]
        asked = [year for year in query.fiscal_years]
        shown, missing = self._known(kpi, asked)
        if asked and not shown:
            return "\n".join([kpi_name(kpi, lang), self._missing_note(missing, available, lang)])
        if query.aspect == "sum" and len(shown) < len(available):
            return self._sum(kpi, shown, missing, lang)
        until = max(shown) if shown else available[-1]
        total = sum(item.result for item in kpi.yearly if item.fiscal_year <= until)
        rate = rate_percent(total, kpi.target)
        period = fiscal_years_label([year for year in available if year <= until], lang)
        tail = self._against_target(kpi, total, lang)
        text = self._text("cumulative", lang, name=kpi_name(kpi, lang), period=period,
                          value=_quantity(total, kpi, lang), target=_quantity(kpi.target, kpi, lang), rate=rate,
                          tail=tail).rstrip()
        if query.aspect != "average":  # then the years it adds up, each with its rate, and the whole period's total
            lines = [text, *(self._text("compare_rate_line", lang, value=_quantity(item.result, kpi, lang),
                                        label=fiscal_year_label(item.fiscal_year, lang),
                                        rate=rate_percent(item.result, kpi.target))
                             for item in kpi.yearly if item.fiscal_year <= until)]
            if until < available[-1]:  # 「令和3年度にいくつで、累計は今どれくらい？」: up to now as well
                final = sum(item.result for item in kpi.yearly)
                lines.append(self._text("target_line", lang, period=self._period(lang, kpi),
                                        value=_quantity(final, kpi, lang), target=_quantity(kpi.target, kpi, lang),
                                        rate=rate_percent(final, kpi.target)))
            return "\n".join(lines)
        averaged = shown if len(shown) >= 2 else [year for year in available if year <= until]  # R3とR4の平均
        part = sum(self._value(kpi, year) for year in averaged)
        average = (Decimal(part) / len(averaged)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        pace = self._text("pace", lang, pace=_quantity(kpi.yearly_pace, kpi, lang),
                          target=_quantity(kpi.target, kpi, lang), years=len(kpi.yearly))
        return "\n".join([self._text("average", lang, name=kpi_name(kpi, lang), value=_quantity(average, kpi, lang),
                                      period=fiscal_years_label(averaged, lang), total=_quantity(part, kpi, lang),
                                      years=len(averaged)), text, pace])

    def _against_target(self, kpi: Kpi, total: int, lang: str) -> str:
        """What a running total leaves to the target, or how far it passed it and in which year."""
        if total < kpi.target:
            return self._text("cumulative_short", lang, gap=_quantity(kpi.target - total, kpi, lang))
        running, crossed = 0, kpi.yearly[-1].fiscal_year
        for item in kpi.yearly:
            running += item.result
            if running >= kpi.target:
                crossed = item.fiscal_year
                break
        return self._text("cumulative_over", lang, surplus=_quantity(total - kpi.target, kpi, lang),
                          label=fiscal_year_label(crossed, lang))

    def _sum(self, kpi: Kpi, shown: Sequence[int], missing: Sequence[int], lang: str) -> str:
        """The years named, added up (R3〜R5の合計), then each year's figure; from the first year, what remained."""
        total = sum(self._value(kpi, year) for year in shown)
        available = [item.fiscal_year for item in kpi.yearly]
        # From the first year the sum is a running total: what remained to the target, or how far it was passed.
        tail = self._against_target(kpi, total, lang) if sorted(shown) == available[:len(shown)] else ""
        lines = [self._text("sum", lang, name=kpi_name(kpi, lang), period=fiscal_years_label(shown, lang),
                            value=_quantity(total, kpi, lang), rate=rate_percent(total, kpi.target),
                            target=_quantity(kpi.target, kpi, lang), tail=tail).rstrip()]
        lines += [self._text("compare_line", lang, label=fiscal_year_label(year, lang),
                             value=_quantity(self._value(kpi, year), kpi, lang)) for year in sorted(shown)]
        if missing:
            lines.append(self._missing_note(missing, available, lang))
        return "\n".join(lines)

    def _crossed(self, kpi: Kpi, query: KpiQuery, lang: str) -> str:
        """The year the cumulative result reached the target, if it did (or a year's figure passed a threshold)."""
        if query.threshold is not None:
            return self._passed(kpi, query.threshold, running=query.aspect == "sum", lang=lang)
        final = sum(item.result for item in kpi.yearly)
        total = 0
        for item in kpi.yearly:
            total += item.result
            if total >= kpi.target:
                return self._text("crossed", lang, name=kpi_name(kpi, lang),
                                  label=fiscal_year_label(item.fiscal_year, lang), value=_quantity(total, kpi, lang),
                                  target=_quantity(kpi.target, kpi, lang), rate=rate_percent(total, kpi.target),
                                  period=self._period(lang, kpi), final=_quantity(final, kpi, lang),
                                  surplus=_quantity(final - kpi.target, kpi, lang))
        return self._text("crossed_not", lang, name=kpi_name(kpi, lang), value=_quantity(total, kpi, lang),
                          target=_quantity(kpi.target, kpi, lang), gap=_quantity(kpi.target - total, kpi, lang),
                          rate=rate_percent(total, kpi.target))

    def _passed(self, kpi: Kpi, threshold: int, running: bool, lang: str) -> str:
        """The first year a KPI's figure (or its running total) reached a threshold."""
        total = 0
        for item in kpi.yearly:
            total += item.result
            value = total if running else item.result
            if value >= threshold:
                return self._text("passed", lang, name=kpi_name(kpi, lang), value=_quantity(value, kpi, lang),
                                  label=fiscal_year_label(item.fiscal_year, lang),
                                  threshold=_quantity(threshold, kpi, lang))
        best = max(kpi.yearly, key=lambda item: item.result)
        return self._text("passed_not", lang, name=kpi_name(kpi, lang), threshold=_quantity(threshold, kpi, lang),
                          label=fiscal_year_label(best.fiscal_year, lang), value=_quantity(best.result, kpi, lang),
                          total=_quantity(total, kpi, lang))

    def _ranked(self, kpis: Sequence[Kpi], query: KpiQuery, lang: str) -> str:
        """KPIs set against each other by their rates (counts differ in unit): in the years asked, or cumulative."""
        if query.aspect == "single":
            return self._best_single_year(kpis, lang)
        if query.aspect == "rise":
            return self._best_rise(kpis, query.fiscal_years, lang)
        years = sorted(set(query.fiscal_years))
        rated: list[tuple[Decimal, int, Kpi]] = []
        for kpi in kpis:
            items = [item for item in kpi.yearly if not years or item.fiscal_year in years]
            if items:
                total = sum(item.result for item in items)
                rated.append((rate_percent(total, kpi.target), total, kpi))
        if not rated:
            return self._missing_note(years, self._years, lang)
        rated.sort(key=lambda row: row[0], reverse=True)
        scope = fiscal_years_label(years, lang) if years else self._text("scope_cumulative", lang,
                                                                          period=self._period(lang))
        if len(kpis) == 2 and len(rated) == 2:
            (high, high_value, upper), (low, low_value, lower) = rated
            lines = [self._text("between_two", lang, scope=scope, upper=kpi_short_name(upper, lang), high=high,
                                lower=kpi_short_name(lower, lang), low=low, points=high - low)]
            if query.aspect == "count" or upper.unit == lower.unit:
                (more_value, more), (less_value, less) = sorted(((high_value, upper), (low_value, lower)),
                                                                key=lambda pair: pair[0], reverse=True)
                unit_note = "" if upper.unit == lower.unit else self._text("between_units", lang)
                lines.append(self._text("between_count", lang, more=kpi_short_name(more, lang),
                                        value_more=_quantity(more_value, more, lang), less=kpi_short_name(less, lang),
                                        value_less=_quantity(less_value, less, lang),
                                        diff=_number(more_value - less_value), note=unit_note).rstrip())
                if query.aspect == "count":  # asked in numbers: that answer first
                    lines.reverse()
            if query.aspect == "ratio" and low and low_value:
                (more_value, more), (less_value, less) = sorted(((high_value, upper), (low_value, lower)),
                                                                key=lambda pair: pair[0], reverse=True)
                ratio = Decimal(high / low).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                count_ratio = (Decimal(more_value) / Decimal(less_value)).quantize(Decimal("0.1"),
                                                                                   rounding=ROUND_HALF_UP)
                lines.insert(0, self._text("between_ratio", lang, upper=kpi_short_name(upper, lang),
                                           lower=kpi_short_name(lower, lang), rate_ratio=ratio,
                                           more=kpi_short_name(more, lang), less=kpi_short_name(less, lang),
                                           count_ratio=count_ratio))
        else:
            rate, _, kpi = rated[-1] if query.aspect == "worst" else rated[0]
            lines = [self._text("best_worst" if query.aspect == "worst" else "best_best", lang, scope=scope,
                                name=kpi_short_name(kpi, lang), rate=rate)]
        lines += [self._text("rank_line", lang, name=kpi_short_name(kpi, lang), value=_quantity(total, kpi, lang),
                             target=_quantity(kpi.target, kpi, lang), rate=rate) for rate, total, kpi in rated]
        missing = [year for year in years if year not in self._years]
        if missing:
            lines.append(self._missing_note(missing, self._years, lang))
        lines.append(self._text("rate_note", lang, period=self._period(lang)))
        return "\n".join(lines)

    def _best_rise(self, kpis: Sequence[Kpi], years: Sequence[int], lang: str) -> str:
        """The KPI that grew most (in per cent) into a year from the year before: the year asked, or the latest."""
        year = max(years) if years else self._years[-1]
        rises: list[tuple[Decimal, int, int, Kpi]] = []
        for kpi in kpis:
            now, before = kpi.result_for(year), kpi.result_for(year - 1)
            if now is not None and before is not None and before.result:
                change = now.result - before.result
                rises.append((_growth(change, before.result) or Decimal(0), change, now.result, kpi))
        if not rises:
            return self._missing_note([year], self._years, lang)
        rises.sort(key=lambda row: row[0], reverse=True)

        def change_text(percent: Decimal, change: int, kpi: Kpi) -> str:
            return self._text("change_up" if change >= 0 else "change_down", lang,
                              diff=_quantity(abs(change), kpi, lang), percent=f"{abs(percent)}%")

        percent, change, _, kpi = rises[0]
        lines = [self._text("rise_best", lang, label=fiscal_year_label(year, lang), name=kpi_short_name(kpi, lang),
                            change=change_text(percent, change, kpi))]
        lines += [self._text("rise_line", lang, name=kpi_short_name(kpi, lang),
                             change=change_text(percent, change, kpi)) for percent, change, _, kpi in rises]
        return "\n".join(lines)

    def _best_single_year(self, kpis: Sequence[Kpi], lang: str) -> str:
        """The one year of one KPI with the highest rate, then each KPI's best year."""
        best = [(*max(((rate_percent(item.result, kpi.target), item.fiscal_year, item.result) for item in kpi.yearly),
                      key=lambda row: row[0]), kpi) for kpi in kpis]
        best.sort(key=lambda row: row[0], reverse=True)
        rate, year, value, kpi = best[0]
        lines = [self._text("best_single", lang, name=kpi_short_name(kpi, lang), label=fiscal_year_label(year, lang),
                            value=_quantity(value, kpi, lang), rate=rate)]
        lines += [self._text("best_single_line", lang, name=kpi_short_name(kpi, lang),
                             label=fiscal_year_label(year, lang), rate=rate) for rate, year, _, kpi in best]
        lines.append(self._text("rate_note", lang, period=self._period(lang)))
        return "\n".join(lines)
