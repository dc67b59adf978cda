"""Reading spoken English numbers, digits, ordinals and years from recognised words (en-US builtins).

Every reader takes the word list and a start index and returns (value, next index) or None, so the
builtin grammars can combine them and insist that the whole utterance is consumed.
"""
from __future__ import annotations

ONES = {"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
        "nine": 9}
TEENS = {"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
         "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
        "ninety": 90}
SCALES = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
# Digit names as people say them in digit strings: "oh" and "o" for zero.
DIGIT_WORDS = {**{k: str(v) for k, v in ONES.items()}, "oh": "0", "o": "0", "nought": "0"}
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
            "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13,
            "fourteenth": 14, "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18,
            "nineteenth": 19, "twentieth": 20, "thirtieth": 30}
NUMBER_WORDS = tuple(ONES) + tuple(TEENS) + tuple(TENS) + ("hundred",) + tuple(SCALES) + ("and", "a")

Read = tuple[int, int] | None


def below_hundred(w: list[str], i: int) -> Read:
    """0-99: "seven", "fourteen", "forty", "forty two"."""
    if i >= len(w):
        return None
    word = w[i]
    if word in TENS:
        if i + 1 < len(w) and w[i + 1] in ONES and ONES[w[i + 1]] > 0:
            return TENS[word] + ONES[w[i + 1]], i + 2
        return TENS[word], i + 1
    if word in TEENS:
        return TEENS[word], i + 1
    if word in ONES:
        return ONES[word], i + 1
    if word.isdigit() and len(word) <= 2:
        return int(word), i + 1
    return None


def below_thousand(w: list[str], i: int) -> Read:
    """0-999: "a hundred", "three hundred and five", "twelve hundred" (1200), "sixty"."""
    if i < len(w) and w[i] == "a" and i + 1 < len(w) and w[i + 1] == "hundred":
        head: Read = (1, i + 1)
    else:
        head = below_hundred(w, i)
    if head is None:
        return None
    value, j = head
    if j < len(w) and w[j] == "hundred" and 1 <= value <= 99:
        j += 1
        k = j + 1 if j < len(w) and w[j] == "and" else j
        rest = below_hundred(w, k)
        if rest is not None and rest[0] > 0:
            return value * 100 + rest[0], rest[1]
        return value * 100, j
    return value, j


def cardinal(w: list[str], i: int) -> Read:
    """A whole number below a trillion: "two million forty thousand and six", "a thousand", "1,250"."""
    if i < len(w) and w[i].replace(",", "").isdigit() and len(w[i]) <= 15:
        return int(w[i].replace(",", "")), i + 1
    total, last_scale, j = 0, 10**12, i
    while True:
        if j < len(w) and w[j] == "a" and j + 1 < len(w) and w[j + 1] in SCALES:
            group: Read = (1, j + 1)
        else:
            group = below_thousand(w, j)
        if group is None:
            return (total, j) if j > i else None
        value, k = group
        if k < len(w) and w[k] in SCALES and SCALES[w[k]] < last_scale and value > 0:
            total += value * SCALES[w[k]]
            last_scale = SCALES[w[k]]
            j = k + 1
            if j < len(w) and w[j] == "and":
                j += 1
            continue
        return total + value, k


def digit_string(w: list[str], i: int, *, allow_double: bool = True) -> tuple[str, int] | None:
    """Digits spoken one by one ("four oh one", "double seven") or written ("401")."""
    out: list[str] = []
    j = i
    while j < len(w):
        word = w[j]
        if word in DIGIT_WORDS:
            out.append(DIGIT_WORDS[word])
        elif word.isdigit():
            out.append(word)
        elif allow_double and word in ("double", "triple") and j + 1 < len(w) and w[j + 1] in DIGIT_WORDS:
            out.append(DIGIT_WORDS[w[j + 1]] * (2 if word == "double" else 3))
            j += 1
        else:
            break
        j += 1
    return ("".join(out), j) if out else None


def ordinal_day(w: list[str], i: int) -> Read:
    """1-31 said as an ordinal ("third", "twenty first", "3rd") or a cardinal ("twenty one")."""
    if i >= len(w):
        return None
    word = w[i]
    if word in TENS and i + 1 < len(w) and w[i + 1] in ORDINALS and ORDINALS[w[i + 1]] < 10:
        return TENS[word] + ORDINALS[w[i + 1]], i + 2
    if word in ORDINALS:
        return ORDINALS[word], i + 1
    if word[:-2].isdigit() and word[-2:] in ("st", "nd", "rd", "th"):
        return int(word[:-2]), i + 1
    return below_hundred(w, i)


def year(w: list[str], i: int) -> Read:
    """A year: "two thousand four", "nineteen ninety nine", "twenty oh five", "1999"."""
    if i >= len(w):
        return None
    if w[i].isdigit() and len(w[i]) == 4:
        return int(w[i]), i + 1
    pair = below_hundred(w, i)
    if pair is not None and 10 <= pair[0] <= 99 and pair[1] < len(w):
        j = pair[1]
        if w[j] in ("oh", "o") and j + 1 < len(w) and w[j + 1] in ONES and ONES[w[j + 1]] > 0:
            return pair[0] * 100 + ONES[w[j + 1]], j + 2
        if w[j] == "hundred":
            return pair[0] * 100, j + 1
        rest = below_hundred(w, j)
        if rest is not None and rest[0] >= 10:
            return pair[0] * 100 + rest[0], rest[1]
    whole = cardinal(w, i)
    if whole is not None and 1000 <= whole[0] <= 2999:
        return whole
    return None
