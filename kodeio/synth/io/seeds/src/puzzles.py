"""Arithmetic puzzles: digits, money, clocks, number games."""

import random
from fractions import Fraction
from itertools import permutations, product

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "arithmetic_puzzle"


@seed(
    """Finds every way to insert "+", "-" or nothing between the digits 1..n (in order) so
    that the expression equals a target, like the classic "123 - 45 - 67 + 89 = 100".
    Input: n from 3 to 7 and the target. Output: the sorted list of matching expressions (at
    most 10)."""
)
def digit_operators(n: int, target: int) -> list[str]:
    digits = [str(d) for d in range(1, n + 1)]
    found = []
    for ops in product(["+", "-", ""], repeat=n - 1):
        expr = digits[0] + "".join(op + d for op, d in zip(ops, digits[1:], strict=True))
        total = 0
        sign = 1
        number = ""
        for ch in expr + "+":
            if ch.isdigit():
                number += ch
            else:
                total += sign * int(number)
                sign = 1 if ch == "+" else -1
                number = ""
        if total == target:
            found.append(expr)
    return sorted(found)[:10]


@inputs_for(digit_operators)
def digit_operators_inputs() -> dict:
    n = random.randint(3, 7)
    return {"n": n, "target": random.choice([0, 1, 9, 10, 15, 100, random.randint(-20, 60)])}


@seed(
    """Computes the angle between the hour and minute hands of an analog clock at h:m,
    where the hour hand moves half a degree per minute, and returns the smaller angle.
    Input: hour 0-23 and minute 0-59. Output: the angle in degrees (a number)."""
)
def clock_angle(hour: int, minute: int) -> float:
    hour_angle = (hour % 12) * 30 + minute * 0.5
    minute_angle = minute * 6
    diff = abs(hour_angle - minute_angle)
    return min(diff, 360 - diff)


@inputs_for(clock_angle)
def clock_angle_inputs() -> dict:
    return {"hour": random.randint(0, 23), "minute": random.randint(0, 59)}


@seed(
    """Makes change for an amount with the fewest bills and coins from a fixed currency
    (50000, 10000, 5000, 1000, 500, 100, 50, 10 won) using the greedy method. Input: an
    amount in won that is a multiple of 10, up to 200000. Output: a dict mapping each used
    denomination (as a string) to its count."""
)
def won_change(amount: int) -> dict:
    out = {}
    for unit in (50000, 10000, 5000, 1000, 500, 100, 50, 10):
        count, amount = divmod(amount, unit)
        if count:
            out[str(unit)] = count
    return out


@inputs_for(won_change)
def won_change_inputs() -> dict:
    return {"amount": random.randint(1, 20000) * 10}


@seed(
    """Solves a cryptarithm-style puzzle on two-digit numbers: finds all digit pairs (a, b),
    a from 1 to 9 and b from 0 to 9, such that the number "ab" equals k times the digit sum
    a + b. Input: k from 2 to 11. Output: the list of numbers found, in increasing order."""
)
def digit_sum_multiples(k: int) -> list[int]:
    found = []
    for a in range(1, 10):
        for b in range(10):
            if 10 * a + b == k * (a + b):
                found.append(10 * a + b)
    return found


@inputs_for(digit_sum_multiples)
def digit_sum_multiples_inputs() -> dict:
    return {"k": random.randint(2, 11)}


@seed(
    """Plays the 24 game: searches the arithmetic expressions over four numbers (all orders,
    the operators + - * /, and the five bracketings) for one that evaluates exactly to the
    target, using exact fractions. Input: four integers from 1 to 9 and the target (usually
    24). Output: the number of (distinct order, operators, bracketing) combinations that hit it."""
)
def make_target(nums: list[int], target: int) -> int:
    def apply(x, y, op):
        # None marks a division by zero somewhere below; it propagates upward.
        if x is None or y is None:
            return None
        if op == "+":
            return x + y
        if op == "-":
            return x - y
        if op == "*":
            return x * y
        return None if y == 0 else x / y

    def bracketings(a, b, c, d, o1, o2, o3):
        return [
            apply(apply(apply(a, b, o1), c, o2), d, o3),  # ((a b) c) d
            apply(apply(a, apply(b, c, o2), o1), d, o3),  # (a (b c)) d
            apply(apply(a, b, o1), apply(c, d, o3), o2),  # (a b) (c d)
            apply(a, apply(apply(b, c, o2), d, o3), o1),  # a ((b c) d)
            apply(a, apply(b, apply(c, d, o3), o2), o1),  # a (b (c d))
        ]

    hits = 0
    for order in sorted(set(permutations(nums))):
        values = [Fraction(v) for v in order]
        for ops in product("+-*/", repeat=3):
            hits += sum(1 for v in bracketings(*values, *ops) if v is not None and v == target)
    return hits


@inputs_for(make_target)
def make_target_inputs() -> dict:
    return {
        "nums": [random.randint(1, 9) for _ in range(4)],
        "target": random.choice([24, 24, 10, 12]),
    }


@seed(
    """Splits a restaurant bill: adds a tip percentage to the total, divides it among the
    people rounding each share up to the next 100 won, and reports the leftover the payers
    overpay. Input: the bill in won, the tip percent (0 to 20) and the number of people (1
    to 8). Output: a dict with "share" and "overpay"."""
)
def split_bill(bill: int, tip: int, people: int) -> dict:
    total = bill * (100 + tip) // 100
    share = -(-total // people)
    share = -(-share // 100) * 100
    return {"share": share, "overpay": share * people - total}


@inputs_for(split_bill)
def split_bill_inputs() -> dict:
    return {
        "bill": random.randint(5, 300) * 1000,
        "tip": random.randint(0, 20),
        "people": random.randint(1, 8),
    }


@seed(
    """Finds the day of the week for a date with Zeller's congruence (Gregorian calendar).
    Input: year (1600 to 2400), month (1 to 12) and day (1 to 28). Output: the weekday name,
    "Monday" to "Sunday"."""
)
def weekday(year: int, month: int, day: int) -> str:
    if month < 3:
        month += 12
        year -= 1
    k, j = year % 100, year // 100
    h = (day + 13 * (month + 1) // 5 + k + k // 4 + j // 4 + 5 * j) % 7
    names = ["Saturday", "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
    return names[h]


@inputs_for(weekday)
def weekday_inputs() -> dict:
    return {
        "year": random.randint(1600, 2400),
        "month": random.randint(1, 12),
        "day": random.randint(1, 28),
    }


@seed(
    """Checks a credit-card-like number with the Luhn algorithm (double every second digit
    from the right, subtract 9 from results over 9, sum everything) and computes the check
    digit that would make the payload valid. Input: a string of 6 to 16 digits. Output: a
    dict with "valid" and "check_digit" (for the number without its last digit)."""
)
def luhn(number: str) -> dict:
    def total(digits: str, double_first: bool) -> int:
        s = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch)
            if (i % 2 == 0) == double_first:
                d *= 2
                if d > 9:
                    d -= 9
            s += d
        return s

    valid = total(number, False) % 10 == 0
    check = (10 - total(number[:-1], True) % 10) % 10
    return {"valid": valid, "check_digit": check}


@inputs_for(luhn)
def luhn_inputs() -> dict:
    return {"number": "".join(random.choice("0123456789") for _ in range(random.randint(6, 16)))}


@seed(
    """Counts how many times each digit 0-9 is written when numbering the pages of a book
    from 1 to n. Input: n from 1 to 2000. Output: a list of 10 counts."""
)
def page_digits(n: int) -> list[int]:
    counts = [0] * 10
    for page in range(1, n + 1):
        for ch in str(page):
            counts[int(ch)] += 1
    return counts


@inputs_for(page_digits)
def page_digits_inputs() -> dict:
    return {"n": random.randint(1, 2000)}


@seed(
    """Solves "chickens and rabbits in a cage": given the number of heads and legs, finds how
    many chickens (2 legs) and rabbits (4 legs) there are, or reports that no whole
    non-negative answer exists. Input: heads (0 to 50) and legs (0 to 200). Output: a dict
    with "chickens" and "rabbits", or {"error": "no solution"}."""
)
def chickens_rabbits(heads: int, legs: int) -> dict:
    rabbits2 = legs - 2 * heads
    if rabbits2 < 0 or rabbits2 % 2:
        return {"error": "no solution"}
    rabbits = rabbits2 // 2
    chickens = heads - rabbits
    if chickens < 0:
        return {"error": "no solution"}
    return {"chickens": chickens, "rabbits": rabbits}


@inputs_for(chickens_rabbits)
def chickens_rabbits_inputs() -> dict:
    if random.random() < 0.7:
        c, r = random.randint(0, 25), random.randint(0, 25)
        return {"heads": c + r, "legs": 2 * c + 4 * r}
    return {"heads": random.randint(0, 50), "legs": random.randint(0, 200)}


@seed(
    """Finds the smallest number of the form repeated digit d (d, dd, ddd, ...) with at most
    12 digits that is divisible by k, working with remainders only. Input: a digit d from 1
    to 9 and k from 1 to 50. Output: the number of repeated digits needed, or -1."""
)
def repdigit_multiple(d: int, k: int) -> int:
    remainder = 0
    for length in range(1, 13):
        remainder = (remainder * 10 + d) % k
        if remainder == 0:
            return length
    return -1


@inputs_for(repdigit_multiple)
def repdigit_multiple_inputs() -> dict:
    return {"d": random.randint(1, 9), "k": random.randint(1, 50)}


@seed(
    """Computes the elapsed time between two clock times on the same or the next day, in the
    format "HH:MM", assuming the end is after the start (wrapping past midnight). Input:
    start and end as "HH:MM" strings. Output: a dict with "minutes" and "text" ("Xh Ym")."""
)
def elapsed_time(start: str, end: str) -> dict:
    sh, sm = map(int, start.split(":"))
    eh, em = map(int, end.split(":"))
    minutes = (eh * 60 + em - sh * 60 - sm) % (24 * 60)
    return {"minutes": minutes, "text": f"{minutes // 60}h {minutes % 60}m"}


@inputs_for(elapsed_time)
def elapsed_time_inputs() -> dict:
    def clock() -> str:
        return f"{random.randint(0, 23):02d}:{random.randint(0, 59):02d}"

    return {"start": clock(), "end": clock()}


@seed(
    """Finds the digit-reversal sum chain: repeatedly adds a number to its digit reversal
    until a palindrome appears or 10 steps pass (the "196 problem"). Input: n from 1 to
    1000. Output: a dict with "steps", "result" and "palindrome" (whether one was reached)."""
)
def reverse_and_add(n: int) -> dict:
    for step in range(11):
        if str(n) == str(n)[::-1]:
            return {"steps": step, "result": n, "palindrome": True}
        if step == 10:
            break
        n += int(str(n)[::-1])
    return {"steps": 10, "result": n, "palindrome": False}


@inputs_for(reverse_and_add)
def reverse_and_add_inputs() -> dict:
    return {"n": random.choice([196, 89, random.randint(1, 1000), random.randint(10, 99)])}
