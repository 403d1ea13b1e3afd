"""String manipulation: scanning, counting, rewriting text."""

import random
import string

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "string"

WORDS = ["apple", "banana", "kiwi", "level", "noon", "stats", "code", "data", "radar", "tree"]


def _random_text(words: int) -> str:
    return " ".join(random.choice(WORDS) for _ in range(words))


@seed(
    """Compresses a string with run-length encoding, writing each run as the character
    followed by its count (counts of 1 included), and reports whether the encoding is
    shorter. Input: a string of up to 30 characters from "aabbc". Output: a dict with
    "encoded" and "shorter"."""
)
def run_length(text: str) -> dict:
    parts = []
    i = 0
    while i < len(text):
        j = i
        while j < len(text) and text[j] == text[i]:
            j += 1
        parts.append(f"{text[i]}{j - i}")
        i = j
    encoded = "".join(parts)
    return {"encoded": encoded, "shorter": len(encoded) < len(text)}


@inputs_for(run_length)
def run_length_inputs() -> dict:
    return {"text": "".join(random.choice("aaabbc") for _ in range(random.randint(0, 30)))}


@seed(
    """Applies a Caesar cipher that shifts letters by k positions (wrapping around the
    alphabet, keeping case) and leaves other characters unchanged. Input: a short text and
    a shift k from -30 to 30. Output: the enciphered text."""
)
def caesar_shift(text: str, k: int) -> str:
    out = []
    for ch in text:
        if ch.islower():
            out.append(chr((ord(ch) - 97 + k) % 26 + 97))
        elif ch.isupper():
            out.append(chr((ord(ch) - 65 + k) % 26 + 65))
        else:
            out.append(ch)
    return "".join(out)


@inputs_for(caesar_shift)
def caesar_shift_inputs() -> dict:
    text = _random_text(random.randint(1, 4))
    return {"text": text.title() if random.random() < 0.5 else text, "k": random.randint(-30, 30)}


@seed(
    """Finds the longest palindromic substring by expanding around every centre; on ties the
    leftmost wins. Input: a string of up to 25 lowercase letters. Output: a dict with the
    "palindrome" and its "start" index."""
)
def longest_palindrome(s: str) -> dict:
    best_start, best_len = 0, 0
    for centre in range(2 * len(s) - 1):
        lo = centre // 2
        hi = lo + centre % 2
        while lo >= 0 and hi < len(s) and s[lo] == s[hi]:
            lo -= 1
            hi += 1
        length = hi - lo - 1
        if length > best_len:
            best_start, best_len = lo + 1, length
    return {"palindrome": s[best_start : best_start + best_len], "start": best_start}


@inputs_for(longest_palindrome)
def longest_palindrome_inputs() -> dict:
    return {"s": "".join(random.choice("abac") for _ in range(random.randint(1, 25)))}


@seed(
    """Groups words that are anagrams of each other. Each group keeps the words in input
    order and the groups are ordered by their first word's position. Input: a list of up
    to 12 short lowercase words. Output: a list of groups (lists of words)."""
)
def anagram_groups(words: list[str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault("".join(sorted(word)), []).append(word)
    return list(groups.values())


@inputs_for(anagram_groups)
def anagram_groups_inputs() -> dict:
    pool = [
        "listen",
        "silent",
        "enlist",
        "stone",
        "notes",
        "onset",
        "cat",
        "act",
        "dog",
        "god",
        "bird",
    ]
    return {"words": [random.choice(pool) for _ in range(random.randint(1, 12))]}


@seed(
    """Counts vowels, consonants, digits, spaces and other characters in a text. Input: a
    string of up to 40 characters. Output: a dict with the five counts."""
)
def char_classes(text: str) -> dict:
    counts = {"vowels": 0, "consonants": 0, "digits": 0, "spaces": 0, "other": 0}
    for ch in text:
        if ch.lower() in "aeiou":
            counts["vowels"] += 1
        elif ch.isalpha():
            counts["consonants"] += 1
        elif ch.isdigit():
            counts["digits"] += 1
        elif ch == " ":
            counts["spaces"] += 1
        else:
            counts["other"] += 1
    return counts


@inputs_for(char_classes)
def char_classes_inputs() -> dict:
    alphabet = string.ascii_letters + string.digits + "  ,.!?-"
    return {"text": "".join(random.choice(alphabet) for _ in range(random.randint(0, 40)))}


@seed(
    """Converts an identifier between naming styles: snake_case to camelCase and camelCase
    (or PascalCase) to snake_case, depending on the requested target. Input: an identifier
    and the target style "camel" or "snake". Output: the converted identifier."""
)
def convert_case(name: str, target: str) -> str:
    if target == "camel":
        parts = [p for p in name.split("_") if p]
        if not parts:
            return ""
        return parts[0].lower() + "".join(p[:1].upper() + p[1:].lower() for p in parts[1:])
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i > 0 and name[i - 1] != "_":
            out.append("_")
        out.append(ch.lower())
    return "".join(out)


@inputs_for(convert_case)
def convert_case_inputs() -> dict:
    words = random.sample(
        ["user", "id", "max", "value", "http", "count", "total"], random.randint(1, 3)
    )
    if random.random() < 0.5:
        return {"name": "_".join(words), "target": "camel"}
    return {"name": words[0] + "".join(w.title() for w in words[1:]), "target": "snake"}


@seed(
    """Finds the length of the longest substring without repeated characters with a sliding
    window, and returns that substring (leftmost on ties). Input: a string of up to 30
    characters. Output: a list [length, substring]."""
)
def longest_unique_run(s: str) -> list:
    last: dict[str, int] = {}
    start = 0
    best = (0, 0)
    for i, ch in enumerate(s):
        if ch in last and last[ch] >= start:
            start = last[ch] + 1
        last[ch] = i
        if i - start + 1 > best[1] - best[0]:
            best = (start, i + 1)
    return [best[1] - best[0], s[best[0] : best[1]]]


@inputs_for(longest_unique_run)
def longest_unique_run_inputs() -> dict:
    return {"s": "".join(random.choice("abcdef") for _ in range(random.randint(0, 30)))}


@seed(
    """Wraps text into lines of at most `width` characters, breaking only at spaces and
    putting a word longer than the width on its own line. Input: a text of a few words and a
    width from 4 to 20. Output: the list of lines."""
)
def wrap_words(text: str, width: int) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


@inputs_for(wrap_words)
def wrap_words_inputs() -> dict:
    return {"text": _random_text(random.randint(1, 10)), "width": random.randint(4, 20)}


@seed(
    """Checks whether two strings are one edit apart (exactly one insertion, deletion or
    substitution) and names the edit. Input: two short strings. Output: one of "insert",
    "delete", "replace", "same" (identical) or "far" (more than one edit)."""
)
def one_edit(a: str, b: str) -> str:
    if a == b:
        return "same"
    if abs(len(a) - len(b)) > 1:
        return "far"
    if len(a) == len(b):
        diffs = sum(x != y for x, y in zip(a, b, strict=True))
        return "replace" if diffs == 1 else "far"
    shorter, longer = (a, b) if len(a) < len(b) else (b, a)
    for i in range(len(longer)):
        if longer[:i] + longer[i + 1 :] == shorter:
            return "insert" if len(a) < len(b) else "delete"
    return "far"


@inputs_for(one_edit)
def one_edit_inputs() -> dict:
    a = random.choice(WORDS)
    b = list(a)
    op = random.choice(["ins", "del", "rep", "none", "two"])
    if op == "ins":
        b.insert(random.randint(0, len(b)), random.choice("xyz"))
    elif op == "del":
        b.pop(random.randrange(len(b)))
    elif op == "rep":
        b[random.randrange(len(b))] = random.choice("xyz")
    elif op == "two":
        b = list(random.choice(WORDS))
    return {"a": a, "b": "".join(b)}


@seed(
    """Builds the frequency table of words in a sentence (case-insensitive, punctuation
    stripped) and returns the top k words, sorted by count descending then alphabetically.
    Input: a sentence and k from 1 to 5. Output: a list of [word, count] pairs."""
)
def top_words(sentence: str, k: int) -> list[list]:
    counts: dict[str, int] = {}
    for raw in sentence.lower().split():
        word = raw.strip(".,!?;:")
        if word:
            counts[word] = counts.get(word, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    return [[w, c] for w, c in ranked[:k]]


@inputs_for(top_words)
def top_words_inputs() -> dict:
    words = [
        random.choice(WORDS) + random.choice(["", "", ",", "."])
        for _ in range(random.randint(1, 12))
    ]
    return {"sentence": " ".join(words), "k": random.randint(1, 5)}


@seed(
    """Validates a password against rules and lists the rules it breaks: at least 8
    characters ("length"), a lowercase letter ("lower"), an uppercase letter ("upper"), a
    digit ("digit"), a symbol from "!@#$%" ("symbol") and no character repeated three times
    in a row ("repeat"). Input: a password string. Output: the list of broken rule names in
    that order (empty when the password is strong)."""
)
def password_problems(password: str) -> list[str]:
    problems = []
    if len(password) < 8:
        problems.append("length")
    if not any(c.islower() for c in password):
        problems.append("lower")
    if not any(c.isupper() for c in password):
        problems.append("upper")
    if not any(c.isdigit() for c in password):
        problems.append("digit")
    if not any(c in "!@#$%" for c in password):
        problems.append("symbol")
    if any(password[i] == password[i + 1] == password[i + 2] for i in range(len(password) - 2)):
        problems.append("repeat")
    return problems


@inputs_for(password_problems)
def password_problems_inputs() -> dict:
    alphabet = "aaBB12!x"
    return {"password": "".join(random.choice(alphabet) for _ in range(random.randint(3, 14)))}


@seed(
    """Reverses the order of the words in a sentence while also reversing the letters of
    every word whose length is odd. Input: a sentence of lowercase words separated by single
    spaces. Output: the transformed sentence."""
)
def reverse_odd_words(sentence: str) -> str:
    words = sentence.split(" ")
    out = []
    for word in reversed(words):
        out.append(word[::-1] if len(word) % 2 else word)
    return " ".join(out)


@inputs_for(reverse_odd_words)
def reverse_odd_words_inputs() -> dict:
    return {"sentence": _random_text(random.randint(1, 6))}


@seed(
    """Checks whether a string is a rotation of another (b appears in a + a with equal
    length) and returns the smallest rotation offset that produces b. Input: two short
    strings. Output: the offset k such that a[k:] + a[:k] == b, or -1."""
)
def rotation_offset(a: str, b: str) -> int:
    if len(a) != len(b):
        return -1
    for k in range(max(1, len(a))):
        if a[k:] + a[:k] == b:
            return k
    return -1


@inputs_for(rotation_offset)
def rotation_offset_inputs() -> dict:
    a = "".join(random.choice("abc") for _ in range(random.randint(1, 8)))
    k = random.randrange(len(a))
    b = a[k:] + a[:k] if random.random() < 0.7 else "".join(random.sample(a, len(a)))
    return {"a": a, "b": b}


@seed(
    """Computes the Levenshtein distance between two words by filling the classic edit
    distance table row by row. Input: two words of up to 10 letters. Output: the minimum
    number of single-character insertions, deletions and substitutions."""
)
def edit_distance(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


@inputs_for(edit_distance)
def edit_distance_inputs() -> dict:
    return {"a": random.choice(WORDS), "b": random.choice(WORDS)}


@seed(
    """Turns a title into a URL slug: lowercase, letters and digits kept, every run of other
    characters replaced by a single hyphen, hyphens trimmed at both ends, and the result cut
    to at most max_len characters without leaving a trailing hyphen. Input: a title and
    max_len from 5 to 30. Output: the slug string."""
)
def slugify(title: str, max_len: int) -> str:
    out = []
    for ch in title.lower():
        if ch.isascii() and ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    slug = "".join(out).strip("-")
    return slug[:max_len].rstrip("-")


@inputs_for(slugify)
def slugify_inputs() -> dict:
    pieces = [random.choice(WORDS).title() for _ in range(random.randint(1, 5))]
    separators = [" ", " - ", ": ", "!! ", " & "]
    title = pieces[0] + "".join(random.choice(separators) + p for p in pieces[1:])
    return {"title": title, "max_len": random.randint(5, 30)}
