"""Math and number theory: primes, divisors, bases, sequences."""

import math
import random
from fractions import Fraction

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "math"


@seed(
    """Factorizes a positive integer into primes by trial division. Input: an integer n from
    2 to 10^7. Output: a list of [prime, exponent] pairs in increasing prime order."""
)
def prime_factors(n: int) -> list[list[int]]:
    factors = []
    p = 2
    while p * p <= n:
        if n % p == 0:
            e = 0
            while n % p == 0:
                n //= p
                e += 1
            factors.append([p, e])
        p += 1
    if n > 1:
        factors.append([n, 1])
    return factors


@inputs_for(prime_factors)
def prime_factors_inputs() -> dict:
    return {"n": random.randint(2, 10**7)}


@seed(
    """Lists the primes up to n with the sieve of Eratosthenes and returns how many there
    are and the largest few. Input: n from 2 to 2000. Output: a dict with "count" and "last"
    (the up-to-5 largest primes in increasing order)."""
)
def sieve_summary(n: int) -> dict:
    is_prime = [False, False] + [True] * (n - 1)
    for p in range(2, int(n**0.5) + 1):
        if is_prime[p]:
            for multiple in range(p * p, n + 1, p):
                is_prime[multiple] = False
    primes = [i for i, flag in enumerate(is_prime) if flag]
    return {"count": len(primes), "last": primes[-5:]}


@inputs_for(sieve_summary)
def sieve_summary_inputs() -> dict:
    return {"n": random.randint(2, 2000)}


@seed(
    """Converts a non-negative integer to a given base between 2 and 36 using digits 0-9
    then A-Z. Input: an integer n up to 10^9 and the base. Output: the representation as a
    string."""
)
def to_base(n: int, base: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if n == 0:
        return "0"
    out = []
    while n:
        n, r = divmod(n, base)
        out.append(digits[r])
    return "".join(reversed(out))


@inputs_for(to_base)
def to_base_inputs() -> dict:
    return {"n": random.randint(0, 10**9), "base": random.randint(2, 36)}


@seed(
    """Computes the Collatz sequence from n (halve even numbers, map odd n to 3n + 1) until
    it reaches 1, returning the number of steps and the highest value reached. Input: n from
    1 to 10^5. Output: a dict with "steps" and "peak"."""
)
def collatz_stats(n: int) -> dict:
    steps = 0
    peak = n
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        peak = max(peak, n)
        steps += 1
    return {"steps": steps, "peak": peak}


@inputs_for(collatz_stats)
def collatz_stats_inputs() -> dict:
    return {"n": random.randint(1, 10**5)}


@seed(
    """Classifies a positive integer as "perfect", "abundant" or "deficient" by comparing it
    with the sum of its proper divisors, and returns that sum. Input: n from 1 to 10^5.
    Output: a list [class, divisor_sum]."""
)
def divisor_class(n: int) -> list:
    total = 1 if n > 1 else 0
    d = 2
    while d * d <= n:
        if n % d == 0:
            total += d
            if d != n // d:
                total += n // d
        d += 1
    if total == n:
        return ["perfect", total]
    return ["abundant" if total > n else "deficient", total]


@inputs_for(divisor_class)
def divisor_class_inputs() -> dict:
    return {"n": random.choice([6, 28, 496, random.randint(1, 10**5), random.randint(1, 100)])}


@seed(
    """Adds a list of fractions given as [numerator, denominator] pairs exactly and returns
    the reduced result and its mixed-number form. Input: up to 6 fractions with denominators
    from 1 to 12. Output: a dict with "fraction" ([num, den], den > 0) and "mixed"
    ([whole, num, den] using floor division)."""
)
def add_fractions(fractions: list[list[int]]) -> dict:
    total = sum((Fraction(a, b) for a, b in fractions), Fraction(0))
    whole, rest = divmod(total.numerator, total.denominator)
    return {
        "fraction": [total.numerator, total.denominator],
        "mixed": [whole, rest, total.denominator],
    }


@inputs_for(add_fractions)
def add_fractions_inputs() -> dict:
    n = random.randint(1, 6)
    return {"fractions": [[random.randint(-9, 9), random.randint(1, 12)] for _ in range(n)]}


@seed(
    """Solves the linear congruence a * x = b (mod m) with the extended Euclidean algorithm.
    Input: integers a, b (0 to 100) and modulus m (2 to 100). Output: the sorted list of all
    solutions x in 0..m-1 (empty when there is none; at most 20 are returned)."""
)
def solve_congruence(a: int, b: int, m: int) -> list[int]:
    def egcd(x: int, y: int) -> tuple[int, int, int]:
        if y == 0:
            return x, 1, 0
        g, s, t = egcd(y, x % y)
        return g, t, s - (x // y) * t

    g, s, _ = egcd(a % m, m)
    if b % g:
        return []
    step = m // g
    x0 = (s * (b // g)) % step
    return [x0 + k * step for k in range(g)][:20]


@inputs_for(solve_congruence)
def solve_congruence_inputs() -> dict:
    return {"a": random.randint(0, 100), "b": random.randint(0, 100), "m": random.randint(2, 100)}


@seed(
    """Converts an integer from 1 to 3999 to a Roman numeral using subtractive notation
    (IV, IX, XL, XC, CD, CM). Input: the integer. Output: the numeral string."""
)
def to_roman(n: int) -> str:
    table = [
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ]  # fmt: skip
    out = []
    for value, symbol in table:
        count, n = divmod(n, value)
        out.append(symbol * count)
    return "".join(out)


@inputs_for(to_roman)
def to_roman_inputs() -> dict:
    return {"n": random.randint(1, 3999)}


@seed(
    """Finds integer square roots and perfect-power status: returns floor(sqrt(n)), whether
    n is a perfect square, and whether it is a perfect cube. Input: n from 0 to 10^12.
    Output: a dict with "isqrt", "square" and "cube"."""
)
def root_facts(n: int) -> dict:
    r = math.isqrt(n)
    c = round(n ** (1 / 3))
    cube = any((c + d) ** 3 == n for d in (-1, 0, 1) if c + d >= 0)
    return {"isqrt": r, "square": r * r == n, "cube": cube}


@inputs_for(root_facts)
def root_facts_inputs() -> dict:
    kind = random.randint(0, 2)
    if kind == 0:
        return {"n": random.randint(0, 10**6) ** 2}
    if kind == 1:
        return {"n": random.randint(0, 10**4) ** 3}
    return {"n": random.randint(0, 10**12)}


@seed(
    """Computes the least common multiple of a list of positive integers through repeated
    gcd, and the gcd of the whole list. Input: a list of 1 to 6 integers from 1 to 60.
    Output: a dict with "lcm" and "gcd"."""
)
def lcm_gcd(nums: list[int]) -> dict:
    lcm = 1
    g = 0
    for x in nums:
        lcm = lcm * x // math.gcd(lcm, x)
        g = math.gcd(g, x)
    return {"lcm": lcm, "gcd": g}


@inputs_for(lcm_gcd)
def lcm_gcd_inputs() -> dict:
    return {"nums": [random.randint(1, 60) for _ in range(random.randint(1, 6))]}


@seed(
    """Evaluates a polynomial at a point with Horner's rule and also returns the
    coefficients of its derivative. Input: coefficients from the highest degree down (up to
    6 integers) and an integer x. Output: a dict with "value" and "derivative" (highest
    degree first; [0] for a constant polynomial)."""
)
def horner(coefficients: list[int], x: int) -> dict:
    value = 0
    for c in coefficients:
        value = value * x + c
    degree = len(coefficients) - 1
    derivative = [c * (degree - i) for i, c in enumerate(coefficients[:-1])]
    return {"value": value, "derivative": derivative or [0]}


@inputs_for(horner)
def horner_inputs() -> dict:
    coefficients = [random.randint(-5, 5) for _ in range(random.randint(1, 6))]
    return {"coefficients": coefficients, "x": random.randint(-4, 4)}


@seed(
    """Counts the trailing zeros of n! with Legendre's formula (the sum of n // 5^k) and
    returns the last non-zero digit of n! computed exactly. Input: n from 0 to 300.
    Output: a list [zeros, last_nonzero_digit]."""
)
def factorial_zeros(n: int) -> list[int]:
    zeros = 0
    power = 5
    while power <= n:
        zeros += n // power
        power *= 5
    value = math.factorial(n)
    while value % 10 == 0:
        value //= 10
    return [zeros, value % 10]


@inputs_for(factorial_zeros)
def factorial_zeros_inputs() -> dict:
    return {"n": random.randint(0, 300)}


@seed(
    """Computes the mean, median, mode (smallest on ties) and population standard deviation
    of a list of integers, rounded to 3 decimals. Input: a list of 1 to 15 integers.
    Output: a dict with the four statistics."""
)
def describe_numbers(values: list[int]) -> dict:
    n = len(values)
    mean = sum(values) / n
    ordered = sorted(values)
    mid = n // 2
    median = ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2
    counts: dict[int, int] = {}
    for v in values:
        counts[v] = counts.get(v, 0) + 1
    mode = min(v for v, c in counts.items() if c == max(counts.values()))
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / n)
    return {"mean": round(mean, 3), "median": median, "mode": mode, "std": round(std, 3)}


@inputs_for(describe_numbers)
def describe_numbers_inputs() -> dict:
    return {"values": [random.randint(0, 20) for _ in range(random.randint(1, 15))]}


@seed(
    """Finds all Pythagorean triples (a, b, c) with a < b < c <= limit and a^2 + b^2 = c^2,
    ordered by c then a. Input: a limit from 5 to 40. Output: the list of [a, b, c] triples
    (at most 15)."""
)
def pythagorean_triples(limit: int) -> list[list[int]]:
    found = []
    for c in range(1, limit + 1):
        for a in range(1, c):
            b2 = c * c - a * a
            b = math.isqrt(b2)
            if b > a and b * b == b2:
                found.append([a, b, c])
    return found[:15]


@inputs_for(pythagorean_triples)
def pythagorean_triples_inputs() -> dict:
    return {"limit": random.randint(5, 40)}


@seed(
    """Computes Euler's totient phi(n), the count of integers in 1..n coprime with n, from
    the prime factorization, and lists the first few coprime numbers. Input: n from 1 to
    10^5. Output: a dict with "phi" and "first_coprimes" (up to 8 values)."""
)
def totient(n: int) -> dict:
    result = n
    m = n
    p = 2
    while p * p <= m:
        if m % p == 0:
            while m % p == 0:
                m //= p
            result -= result // p
        p += 1
    if m > 1:
        result -= result // m
    first = [k for k in range(1, min(n, 50) + 1) if math.gcd(k, n) == 1][:8]
    return {"phi": result, "first_coprimes": first}


@inputs_for(totient)
def totient_inputs() -> dict:
    return {"n": random.randint(1, 10**5)}
