"""The words and patterns that recognise a KPI question and what it asks, kept apart from the answers.

Patterns are matched on the normalized message (lower case, no spaces or punctuation, katakana folded to hiragana)
and on its kana reading, so a regular expression here is written without spaces ("leftto(the|its)"), and an English
word may be found across a missing space ("of all" holds "fall"): such words carry a lookaround.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from .normalize import normalize

# Kana readings of the kanji words in KPI names and questions, so that 「さぽすてのそうだんけんすう」 matches
# 「サポステの相談件数」. Applied to both the aliases and the message, longest word first.
READINGS = {
    "正社員": "せいしゃいん", "正規雇用": "せいきこよう", "正規": "せいき", "雇用": "こよう", "就職": "しゅうしょく",
    "件数": "けんすう", "者数": "しゃすう", "人数": "にんずう", "新規": "しんき", "登録": "とうろく", "利用": "りよう",
    "相談": "そうだん", "市町村": "しちょうそん", "設置": "せっち", "実績": "じっせき", "実施": "じっし",
    "県内": "けんない", "全市": "ぜんし", "何件": "なんけん", "何人": "なんにん", "何市": "なんし", "何名": "なんめい",
    "進捗": "しんちょく", "達成": "たっせい", "目標": "もくひょう", "累計": "るいけい", "一覧": "いちらん",
    "状況": "じょうきょう", "若者": "わかもの", "地域": "ちいき", "者": "しゃ", "数": "すう", "人": "ひと",
}  # fmt: skip
READING_PATTERN = re.compile("|".join(sorted(map(re.escape, READINGS), key=len, reverse=True)))

# Signs that a figure is wanted. Strong ones make any KPI mention a question; weak ones count only when the
# message is not about the writer's own plans (「正社員就職を目標に頑張っています」 is not a KPI question).
STRONG = [
    "件数", "何件", "何人", "何名", "何市", "何か所", "何箇所", "何ヶ所", "人数", "者数", "登録数", "設置数",
    "設置状況", "累計", "推移", "数値", "割合", "kpi", "指標", "進捗", "実績", "達成率", "達成状況",
    "how many", "number of", "figures", "設置率", "前年比", "伸び率", "増加率", "減少率", "何パーセント",
    "how much", "percentage", "what was", "what is the", "total", "合計", "足すと", "足したら", "sum of",
    "cumulative", "figure", "data", "平均", "average", "numbers", "each year", "by year", "year by year", "yearly",
    "年度別", "年度ごと", "年ごと", "毎年の", "combined", "占め", "share of", "何倍", "how many times",
]  # fmt: skip
WEAK = ["目標(?!に|として)", "目標に(届い|届か|達し)", "達成(?!したい|する|しよう|でき)", "成果", "いくつ",
         "どれくらい", "どのくらい", "どれだけ", "どこまで進", "どこまで来", "今どこまで", "順調", "result", "progress",
         "target", "achiev",
         "how far", "goal"]  # fmt: skip
STRONG_REGEX = [r"数(?:は|を|って|が|$)", r"何(?:増|減|伸|多|少)"]  # 相談数は, 登録者の数; 何％増 (％ is dropped)
# Words that make a message about the KPIs as a whole, with no KPI or year named.
META = [
    "kpi", "指標", "進捗状況", "進捗率", "達成率", "達成状況", "数値目標", "目標値", "目標と実績", "実績と目標",
    "取組状況", "indicators",
]  # fmt: skip
EXPLICIT = ["kpi", "指標", "indicator"]
YEAR_CONTEXT = ["実績", "進捗", "達成", "目標", "結果", "成果", "kpi", "指標", "件数", "数値", "状況", "全部", "全て",
                 "すべて", "まとめ", "一覧", "result", "progress", "figures", "numbers", "achiev", "target", "overview",
                 "summary"]  # fmt: skip
UNMET = [
    "未達", "達成していない", "達成できていない", "達成してない", "達成できてない", "達成しなかった",
    "達成できなかった", "届いていない", "届いてない", "届かなかった", "下回って", "not achieved", "unmet",
    "not met", "below target", "behind target", "missedthetarget", "missedtheirtarget", "missedtarget",
    "missedtargets", "missedits", "short of",
]  # fmt: skip
# The writer's own life or wishes: a generic word such as 目標 or 達成 then is not about the plan's KPIs.
PERSONAL = ["私", "わたし", "自分", "僕", "ぼく", "俺", "おれ", "うちの", "息子", "娘", "応募", "面接", "就活",
             "転職", "iwant", "iwould", "ineed"]  # fmt: skip
WISH = re.compile(r"たい|ほしい|欲しい")
ASKING = re.compile(r"(?:知り|見|教えて(?:もらい)?|聞き|確認し|調べ|比べ|比較し|把握し)たい"
                     r"|(?:教えて|見せて)(?:ほしい|欲しい)"
                     r"|i ?(?:want|would like|wanna|need) ?(?:to ?)?(?:know|see|check|ask)"
                     r"|i ?need ?(?:it|this|them) ?for")
# A message that is only a generic word with polite filler: 「目標」「実績は？」「進捗を教えてください」.
BARE = re.compile(
    r"(?:全体の|県の|今の|現在の|最新の|(?:この)?(?:ぷらっとふぉーむ|ぷらっとほーむ|pf|platform)の?)?(?:目標|実績|進捗|達成|成果|results?|targets?|achievements?)"
    r"(?:の?一覧|まとめて?|状況)?(?:は|を|って|について)?"
    r"(?:教えて(?:ください|下さい|ほしい)?|知りたい|見せて(?:ください|下さい)?|見たい|どう(?:ですか|なって(?:い)?る)?"
    r"|ですか|ください|下さい)?"
)
EN_STOPWORDS = {"as", "at", "by", "held", "in", "of", "set", "for", "from", "on", "with", "to"}



def reading(text: str) -> str:
    """Replace the known kanji words of normalized text by their kana reading."""
    return READING_PATTERN.sub(lambda match: READINGS[match.group(0)], text)


def char_mask(text: str) -> int:
    """A bit set of the characters of a text (code points folded onto 251 bits), for a quick bound."""
    mask = 0
    for char in set(text):
        mask |= 1 << (ord(char) % 251)
    return mask


def variants(words: Iterable[str]) -> list[str]:
    """Normalized words and their kana readings, for patterns matched on both forms of a message."""
    out: list[str] = []
    for word in words:
        norm = normalize(word)
        out.extend(dict.fromkeys((norm, reading(norm))))
    return out


def any_words(words: Iterable[str], regexes: Iterable[str] = ()) -> re.Pattern[str]:
    # Words may carry a lookahead (目標(?!に)): normalize the literal part only.
    parts: list[str] = list(regexes)
    for word in words:
        literal, _, rest = word.partition("(")
        tail = f"({rest}" if rest else ""
        parts.extend(re.escape(variant) + tail for variant in variants([literal]))
    return re.compile("|".join(parts))


STRONG_PATTERN = any_words(STRONG, STRONG_REGEX)
WEAK_PATTERN = any_words(WEAK)
# 「目標達成してる？」 asks about the plan's targets as a whole (「目標達成したい」 is the writer's own wish)
META_PATTERN = any_words(META, [r"目標(は|を|って)?(全部|すべて|ぜんぶ)?達成(し|でき)て(る|い|ま)",
                                 r"目標に届いて(る|い|ま)"])
EXPLICIT_PATTERN = any_words(EXPLICIT)
YEAR_CONTEXT_PATTERN = any_words(YEAR_CONTEXT)
UNMET_PATTERN = any_words(UNMET, [  # every politeness: 達成していません, 届いておらず, 達成できませんでした
    r"(達成|到達)(し|でき)て(い|お)(ない|ません|らず)", r"届いて(い|お)(ない|ません|らず)",
    r"届(か|き)(なかった|ません)", r"(達成|到達)(し|でき)(なかった|ません)"])
PERSONAL_PATTERN = any_words(PERSONAL)
# What is asked of a KPI beyond its figures: a comparison of years, the most or least, the cumulative result up to
# a year and what remains to the target, the year the target was passed, the KPI furthest ahead or behind.
COMPARE_PATTERN = any_words([
    "比べ", "比較", "差", "増え", "減っ", "減り", "伸び", "前年比", "前年度比", "対前年", "増加", "減少", "変化",
    "増減", "より多", "より少", "違う", "違い", "ちがう", "ちがい", "compare", "difference", "grow", "increase",
    "decrease", "change", "versus", "vs",
    "rise", "rose", "fell", "drop", "jump", "higher", "lower", "than in", "more than",
    "fewer than", "less than", "went up", "went down", "go up", "go down", "上が", "下が", "上昇", "低下", "ポイント",
    "percentage point", "倍になっ", "倍増", "doubled",
], [r"より.{0,6}(多|少|増|減)", r"(?<!o)fall"])  # "fall", not "of all" (the text has no spaces)
# The change of the rate (進捗率) between two years, in percentage points.
POINTS_PATTERN = any_words(["ポイント", "percentage point", "points"], [r"(?<![a-z])pt(?![a-z])"])
TARGET_PATTERN = any_words(["目標", "target", "goal"])
PERCENT_ASKED = re.compile(r"何\s*[%％]|何割|what percent|what %", re.IGNORECASE)  # normalizing drops the ％
PREVIOUS_PATTERN = any_words(["前年比", "前年度比", "前年より", "前年度より", "前の年より", "昨年度より", "前年から",
                              "前年度から", "than the previous year", "than the year before", "from the previous year",
                              "year on year", "year-on-year"])
MOST_PATTERN = any_words(["一番多", "最多", "最大", "ピーク", "一番たくさん", "一番大き", "一番高", "最高", "一番増",
                          "一番伸", "一番進んだ年", "highest", "largest", "maximum", "best year", "high point",
                          "top year", "record year", "biggest", "greatest"],
                         [r"(?<!al)most", "peak"])  # not "almost": the text has no spaces
LEAST_PATTERN = any_words(["一番少な", "最少", "最小", "低調", "振るわな", "ふるわな",
                           "ゼロだった", "ゼロの年", "0だった", "一番低", "最低",
                           "一番小さ", "一つもな", "ひとつもな", "1つもな", "なかった年",
                           "lowest", "fewest", "smallest", "zero", "minimum", "weakest", "worst year", "low point"],
                          [r"(?<!at)least"])  # not "at least"
# Years named by their place in the plan's data (the first year, the last year of the plan, the first two years).
# Matched on the NFKC lower-case text; found, they are blanked before the years are parsed ("last year of the plan"
# is FY2023, not last year from today; beside "the first year", "the last year" is the plan's too).
PLAN_FIRST = re.compile(r"(?:the\s*)?first\s*(two|three|2|3)?\s*(?:fiscal\s*)?years?|初年度|最初の(2|二|3|三)?年"
                         r"|(?:期間|計画)の前半の?(2|二)?(?:年間?)?|前半の?(2|二)年|(?:the\s*)?first(?=\s*(?:and|&|to|vs\.?)\s*(?:the\s*)?(?:last|final))")
PLAN_LAST = re.compile(r"(?:the\s*)?(?:last\s*year\s*of\s*(?:the\s*)?(?:plan|period|programme|program)|final\s*year"
                        r"|most\s*recent\s*year|latest\s*year)|最終年度|最新の?年度|直近の?年度")
PLAN_LAST_BESIDE_FIRST = re.compile(rf"{PLAN_LAST.pattern}|(?:the\s*)?last\s*year")
# The last years of the plan (最後の2年間, 後半, "the last two years"), and the year before its last.
PLAN_LAST_SEVERAL = re.compile(r"最後の(2|二|3|三)年|(?:期間|計画)の後半の?(2|二)?(?:年間?)?"
                                r"|後半の?(2|二)年|(?:the\s*)?(?:last|final)\s*(two|three|2|3)\s*(?:fiscal\s*)?years")
PLAN_PENULTIMATE = re.compile(r"最終年度の(?:前年度?|前の年)|(?:the\s*)?(?:year\s*before\s*(?:the\s*)?(?:last|final)"
                               r"(?:\s*year)?\s*of\s*(?:the\s*)?(?:plan|period|programme|program)|penultimate\s*year)")
# The plan's Nth year: 2年目 (not 立ち上げて2年目, 入社2年目), "the second year of the plan" (a bare "second year"
# too: the plan has no other).
PLAN_NTH = re.compile(r"(?<![てで社職業婚])(1|2|3|4|一|二|三|四)年目"
                       r"|(?:the\s*)?(second|third|fourth|2nd|3rd|4th)\s*(?:fiscal\s*)?year")
PLAN_COUNT = {"two": 2, "2": 2, "二": 2, "three": 3, "3": 3, "三": 3, "1": 1, "一": 1, "4": 4, "四": 4,
               "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
SINCE_PATTERN = any_words(["since", "以降", "から今まで", "から現在", "から最新"])  # FY2020 onwards, not up to it
# A sum over the years named (R3〜R5の合計, R2とR3を足すと), not the cumulative result from the first year.
SUM_PATTERN = any_words(["合計", "足す", "足し", "合わせ", "総数", "総計", "total", "combined", "altogether",
                         "add up", "added up"], [r"sum(?!mar)"])
RISE_PATTERN = any_words(["伸び", "増加", "増え", "growth", "increase", "grew", "grow", "rise", "jump"],
                        [r"gain(?!st)"])  # not "against" (the text has no spaces)
AVERAGE_PATTERN = any_words(["平均", "ならす", "ならし", "1年あたり", "一年あたり", "年あたり", "average", "per year",
                             "a year on average"])
CUMULATIVE_PATTERN = any_words(["累計", "まで", "末時点", "時点", "cumulative", "so far", "up to", "by the end of",
                                "as of the end"],
                               # not "through the programme"; "by FY2022", not "by fiscal year"
                               [r"through(fy|fiscal|20\d\d|r\d|reiwa|theend)",
                                r"by(theendof)?(fy|fiscal|reiwa|r)?(20\d\d|\d)(?!\d)"])
REMAINING_PATTERN = any_words(["あと何", "残り", "上回", "超え", "超過", "おーばー", "足りな", "不足", "still needed",
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
REACHED_PATTERN = any_words(["達成", "到達", "突破", "クリア", "達した", "達しま", "届いた", "届きま", "超えた",
                             "超えま", "reach", "hit the",
                             "met the", "achieved", "pass", "exceeded", "surpass", "crossed"])
WHICH_YEAR_PATTERN = any_words(["どの年", "何年度", "いつ", "which year", "what year", "which fiscal year",
                                "what fiscal year", "when"],
                               # 超えた年度と…
                               [r"(超え|達成し|到達し|突破し|達し|届い|くりあし|上回っ)(た|ました)(年度|年|時|とき|のは)"])
# Now, beside a year asked about: the total up to now is wanted, not up to that year.
NOW_PATTERN = re.compile(r"今(?!年|月|度|回|後|まで)|いま(?=どれ|どの|どう|の(?:累計|進捗|実績|状況))|現在|現時点|now"
                          r"|currently|todate|atpresent")  # not the いま of いました
# A figure a KPI passed for the first time (初めて1,000件を超えた年), other than its target.
FIRST_TIME_PATTERN = any_words(["初めて", "はじめて", "first time", "firsttime", "first year"])
THRESHOLD = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+|\d{2,6})(?![\d.,]|\s*(?:年|%|％|ねん|ポイント|points?))")
BEST_PATTERN = any_words(["一番進んで", "進捗が一番良", "進捗が一番いい", "一番順調",
                          "best progress", "furthest ahead", "most progress"])
WORST_PATTERN = any_words(["進捗が悪", "進捗が一番悪", "一番遅れ", "遅れている", "worst progress",
                           "most behind", "least progress", "furthest behind"])
# KPIs set against each other, not years: which of them is higher, their gap, their order.
WHICH_KPI_PATTERN = any_words(["どちら", "どっち", "どれが", "どれも", "どの指標", "どのkpi", "どの項目", "順位",
                               "順番", "ランキング", "並べ", "which", "rank", "order", "ahead of", "behind", "vs",
                               "versus"],
                              ["4つ", "四つ", "全指標", "全kpi", "allthe(kpi|indicator)",
                               "allfour", "of(the|all)?(kpi|indicator)", "どれ(?!くらい|ほど|だけ)"])
BETWEEN_PATTERN = any_words(["比べ", "比較", "差", "開き", "高い", "低い", "上回", "下回", "多い", "少ない", "gap",
                             "difference", "higher", "lower", "more", "fewer", "greater", "bigger", "better", "worse"])
SINGLE_YEAR_PATTERN = any_words(["単年", "各年度", "年度別", "single-year", "single year", "singleyear", "in one year",
                                 "in a single", "any one year", "any single year", "yearly rate", "annual rate"])
COUNT_ASKED_PATTERN = any_words(["何件", "何人", "何名", "件数で", "人数で", "数で", "数では", "how many",
                                 "by how much", "howmuchmore"])
# A year's part of the whole (令和2年度の分は合計の何％), and one figure as a multiple of another (何倍).
SHARE_PATTERN = any_words(["占め", "share of", "proportion of", "share", "全体の何", "合計の何", "累計の何"],
                          [r"のうち.{0,24}(何[%％]?|割合|何割)", r"what(percent|%)ofall"])
RATIO_PATTERN = any_words(["何倍", "times as", "times more", "how many times"])
# The year a KPI fell (ジョブカフェ 減った年): the smallest change from the year before.
FELL_PATTERN = any_words(["減っ", "減り", "減少", "下が", "落ち込", "fell", "drop", "decrease", "decline", "went down"])
# The superlative adverbs, folded into one before the patterns are matched: 最も / いちばん / もっとも → 一番, so that a
# pattern written with one (一番大き) reads them all (いちばん大きかった, 最も大きかった).
SUPERLATIVE = re.compile(r"いちばん|最も|もっとも|いっちゃん|一等")
FELL_YEAR_PATTERN = any_words(["減った年", "減少した年", "下がった年", "落ちた年", "year it fell", "year it dropped",
                               "year it went down", "一番減", "一番下が", "一番落ち", "一番マイナス",
                               "biggest drop", "largest drop", "biggest fall", "largest fall", "fell the most",
                               "dropped the most", "biggest decrease", "largest decrease", "greatest drop",
                               "greatest fall", "greatest decrease", "sharpest drop", "sharpest fall", "steepest drop",
                               "steepest fall",
                               "biggest decline", "largest decline", "sharpest decline", "下回った年", "前年度を下回",
                               "前年を下回", "前年割れ", "前年度割れ", "減少に転じ", "マイナスになった年",
                               "前年より少なかった年", "前年度より少なかった年"])
ANY_RELATIVE = re.compile(r"(一昨|再来|今|本|当|昨|前|来|翌|次|去)年度?|おととし|(this|last|next|previous) year")
RELATIVE_WORDS = re.compile(r"(今年度|本年度|当年度|昨年度|前年度|前年|前の年|翌年度|翌年|次の年度|次年度|次の年"
                             r"|(?:the )?(?:previous|prior|preceding) (?:fiscal )?year|(?:the )?year before"
                             r"|(?:the )?(?:following|next) (?:fiscal )?year|(?:the )?year after)", re.IGNORECASE)
SUPPOSE = re.compile(r"(とすると|とした(場合|ら)|として|が今年度|を今年度|だとして|だとすると)")
OF_PREVIOUS = re.compile(r"(年度|年)の(前年度|前年|前の年)(?!度?(比|から|より|と(の)?比))")  # not 前年度からの伸び
OF_NEXT = re.compile(r"(年度|年)の(翌年度|翌年|次の年度|次年度|次の年)")
