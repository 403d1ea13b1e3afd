"""Recursion: self-calls, memoization and divide and conquer."""

import random
from functools import cache

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "recursion"


@seed(
    """Computes n! recursively and returns the list of partial factorials 0!, 1!, ..., n!.
    Input: an integer n between 0 and 12. Output: a list of n + 1 integers."""
)
def factorial_chain(n: int) -> list[int]:
    def fact(k: int) -> int:
        if k == 0:
            return 1
        return k * fact(k - 1)

    return [fact(k) for k in range(n + 1)]


@inputs_for(factorial_chain)
def factorial_chain_inputs() -> dict:
    return {"n": random.randint(0, 12)}


@seed(
    """Counts the calls a naive recursive Fibonacci makes and returns the value with that
    count. Input: an integer n from 0 to 15. Output: a dict with keys "value" (the n-th
    Fibonacci number, fib(0) = 0) and "calls" (how many times the function was entered)."""
)
def fibonacci_call_count(n: int) -> dict:
    calls = 0

    def fib(k: int) -> int:
        nonlocal calls
        calls += 1
        if k < 2:
            return k
        return fib(k - 1) + fib(k - 2)

    value = fib(n)
    return {"value": value, "calls": calls}


@inputs_for(fibonacci_call_count)
def fibonacci_call_count_inputs() -> dict:
    return {"n": random.randint(0, 15)}


@seed(
    """Solves the Tower of Hanoi for n disks moving from peg "A" to peg "C" using "B", and
    returns the total number of moves together with the first few moves. Input: n from 1
    to 10 and how many moves to show (1 to 6). Output: a dict with "moves" (an integer) and
    "first" (a list of [disk, from_peg, to_peg] triples)."""
)
def hanoi_moves(n: int, show: int) -> dict:
    moves: list[list] = []

    def solve(k: int, src: str, dst: str, via: str) -> None:
        if k == 0:
            return
        solve(k - 1, src, via, dst)
        moves.append([k, src, dst])
        solve(k - 1, via, dst, src)

    solve(n, "A", "C", "B")
    return {"moves": len(moves), "first": moves[:show]}


@inputs_for(hanoi_moves)
def hanoi_moves_inputs() -> dict:
    return {"n": random.randint(1, 10), "show": random.randint(1, 6)}


@seed(
    """Computes the binomial coefficient C(n, k) with a memoized recursion on Pascal's rule
    C(n, k) = C(n-1, k-1) + C(n-1, k). Input: integers n (0 to 30) and k (0 to n). Output:
    the integer C(n, k)."""
)
def binomial_memo(n: int, k: int) -> int:
    @cache
    def c(a: int, b: int) -> int:
        if b == 0 or b == a:
            return 1
        return c(a - 1, b - 1) + c(a - 1, b)

    return c(n, k)


@inputs_for(binomial_memo)
def binomial_memo_inputs() -> dict:
    n = random.randint(0, 30)
    return {"n": n, "k": random.randint(0, n)}


@seed(
    """Sorts a list with recursive merge sort and reports how many element comparisons the
    merges made. Input: a list of up to 12 integers. Output: a dict with "sorted" (the
    ascending list) and "comparisons" (an integer)."""
)
def merge_sort_count(items: list[int]) -> dict:
    comparisons = 0

    def sort(xs: list[int]) -> list[int]:
        nonlocal comparisons
        if len(xs) <= 1:
            return xs
        mid = len(xs) // 2
        left, right = sort(xs[:mid]), sort(xs[mid:])
        merged: list[int] = []
        i = j = 0
        while i < len(left) and j < len(right):
            comparisons += 1
            if left[i] <= right[j]:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                j += 1
        return merged + left[i:] + right[j:]

    return {"sorted": sort(list(items)), "comparisons": comparisons}


@inputs_for(merge_sort_count)
def merge_sort_count_inputs() -> dict:
    return {"items": [random.randint(-50, 50) for _ in range(random.randint(0, 12))]}


@seed(
    """Computes a^b mod m by recursive fast exponentiation (squaring the half power) and
    also returns the recursion depth reached. Input: base a (0 to 1000), exponent b (0 to
    10^6) and modulus m (2 to 1000). Output: a list [result, depth]."""
)
def fast_power_mod(a: int, b: int, m: int) -> list[int]:
    def power(e: int) -> tuple[int, int]:
        if e == 0:
            return 1 % m, 0
        half, depth = power(e // 2)
        result = half * half % m
        if e % 2:
            result = result * a % m
        return result, depth + 1

    value, depth = power(b)
    return [value, depth]


@inputs_for(fast_power_mod)
def fast_power_mod_inputs() -> dict:
    return {
        "a": random.randint(0, 1000),
        "b": random.randint(0, 10**6),
        "m": random.randint(2, 1000),
    }


@seed(
    """Generates every permutation of a short string recursively, in lexicographic order of
    the choices made, skipping duplicates caused by repeated letters. Input: a string of 1
    to 4 lowercase letters. Output: the sorted list of distinct permutations."""
)
def string_permutations(s: str) -> list[str]:
    found: set[str] = set()

    def build(prefix: str, rest: str) -> None:
        if not rest:
            found.add(prefix)
            return
        for i, ch in enumerate(rest):
            build(prefix + ch, rest[:i] + rest[i + 1 :])

    build("", s)
    return sorted(found)


@inputs_for(string_permutations)
def string_permutations_inputs() -> dict:
    n = random.randint(1, 4)
    return {"s": "".join(random.choice("abcd") for _ in range(n))}


@seed(
    """Flattens an arbitrarily nested list of integers recursively and returns the flat list
    together with the maximum nesting depth (a flat list has depth 1). Input: a nested list
    built from integers and lists. Output: a dict with "flat" and "depth"."""
)
def flatten_nested(data: list) -> dict:
    def walk(node: list, depth: int) -> tuple[list[int], int]:
        flat: list[int] = []
        deepest = depth
        for item in node:
            if isinstance(item, list):
                sub, d = walk(item, depth + 1)
                flat.extend(sub)
                deepest = max(deepest, d)
            else:
                flat.append(item)
        return flat, deepest

    flat, depth = walk(data, 1)
    return {"flat": flat, "depth": depth}


def _random_nested(budget: int, depth: int) -> list:
    out: list = []
    for _ in range(random.randint(1, 3)):
        if budget <= 0:
            break
        if depth < 3 and random.random() < 0.35:
            out.append(_random_nested(budget - 1, depth + 1))
        else:
            out.append(random.randint(0, 9))
        budget -= 1
    return out


@inputs_for(flatten_nested)
def flatten_nested_inputs() -> dict:
    return {"data": _random_nested(6, 1)}


@seed(
    """Computes the Ackermann function A(m, n) recursively for small arguments, where
    A(0, n) = n + 1, A(m, 0) = A(m - 1, 1) and otherwise A(m, n) = A(m - 1, A(m, n - 1)).
    Input: m from 0 to 2 and n from 0 to 6. Output: the integer A(m, n)."""
)
def ackermann(m: int, n: int) -> int:
    if m == 0:
        return n + 1
    if n == 0:
        return ackermann(m - 1, 1)
    return ackermann(m - 1, ackermann(m, n - 1))


@inputs_for(ackermann)
def ackermann_inputs() -> dict:
    return {"m": random.randint(0, 2), "n": random.randint(0, 6)}


@seed(
    """Finds the sum of the digits of a non-negative integer by recursion, repeating until a
    single digit remains (the digital root), and returns every intermediate sum. Input: an
    integer n from 0 to 10^12. Output: a list of the successive digit sums, ending in the
    digital root (just [n] if n is already one digit)."""
)
def digital_root_trail(n: int) -> list[int]:
    def digit_sum(k: int) -> int:
        return k if k < 10 else k % 10 + digit_sum(k // 10)

    trail = [n]
    while trail[-1] >= 10:
        trail.append(digit_sum(trail[-1]))
    return trail


@inputs_for(digital_root_trail)
def digital_root_trail_inputs() -> dict:
    return {"n": random.randint(0, 10 ** random.randint(1, 12))}


@seed(
    """Counts the ways to climb a staircase of n steps taking 1, 2 or 3 steps at a time, with
    memoized recursion. Input: n from 0 to 30. Output: the number of distinct step sequences
    (1 for n = 0)."""
)
def stair_ways(n: int) -> int:
    memo: dict[int, int] = {}

    def ways(k: int) -> int:
        if k < 0:
            return 0
        if k == 0:
            return 1
        if k not in memo:
            memo[k] = ways(k - 1) + ways(k - 2) + ways(k - 3)
        return memo[k]

    return ways(n)


@inputs_for(stair_ways)
def stair_ways_inputs() -> dict:
    return {"n": random.randint(0, 30)}


@seed(
    """Finds the maximum of a list by divide and conquer (split in halves, compare the two
    maxima) and counts the comparisons made. Input: a non-empty list of up to 15 integers.
    Output: a dict with "max" and "comparisons"."""
)
def divide_max(items: list[int]) -> dict:
    comparisons = 0

    def best(lo: int, hi: int) -> int:
        nonlocal comparisons
        if lo == hi:
            return items[lo]
        mid = (lo + hi) // 2
        a, b = best(lo, mid), best(mid + 1, hi)
        comparisons += 1
        return a if a >= b else b

    return {"max": best(0, len(items) - 1), "comparisons": comparisons}


@inputs_for(divide_max)
def divide_max_inputs() -> dict:
    return {"items": [random.randint(-99, 99) for _ in range(random.randint(1, 15))]}


@seed(
    """Lists all subsets of a small list of distinct integers whose sum equals a target,
    found by recursive include/exclude branching. Input: a list of up to 10 distinct
    positive integers and a target sum. Output: the list of matching subsets, each in input
    order, in the order the recursion finds them (include before exclude), at most the
    first 10."""
)
def subset_sums(nums: list[int], target: int) -> list[list[int]]:
    found: list[list[int]] = []

    def explore(i: int, chosen: list[int], total: int) -> None:
        if total == target and i == len(nums):
            found.append(list(chosen))
            return
        if i == len(nums) or total > target:
            return
        chosen.append(nums[i])
        explore(i + 1, chosen, total + nums[i])
        chosen.pop()
        explore(i + 1, chosen, total)

    explore(0, [], 0)
    return found[:10]


@inputs_for(subset_sums)
def subset_sums_inputs() -> dict:
    nums = random.sample(range(1, 20), random.randint(3, 10))
    return {"nums": nums, "target": random.randint(5, 30)}


@seed(
    """Computes the greatest common divisor with the recursive Euclidean algorithm and
    returns the chain of (a, b) pairs visited. Input: two positive integers up to 10^6.
    Output: a dict with "gcd" and "steps", the list of [a, b] pairs from the first call to
    the call where b is 0 (the first 20 pairs at most)."""
)
def euclid_trace(a: int, b: int) -> dict:
    steps: list[list[int]] = []

    def gcd(x: int, y: int) -> int:
        steps.append([x, y])
        return x if y == 0 else gcd(y, x % y)

    return {"gcd": gcd(a, b), "steps": steps[:20]}


@inputs_for(euclid_trace)
def euclid_trace_inputs() -> dict:
    return {"a": random.randint(1, 10**6), "b": random.randint(1, 10**6)}


@seed(
    """Evaluates the number of full binary trees (Catalan numbers) with n internal nodes by
    the memoized recursion C(0) = 1, C(n) = sum of C(i) * C(n - 1 - i). Input: n from 0 to
    20. Output: the list C(0) .. C(n)."""
)
def catalan_numbers(n: int) -> list[int]:
    @cache
    def catalan(k: int) -> int:
        if k == 0:
            return 1
        return sum(catalan(i) * catalan(k - 1 - i) for i in range(k))

    return [catalan(k) for k in range(n + 1)]


@inputs_for(catalan_numbers)
def catalan_numbers_inputs() -> dict:
    return {"n": random.randint(0, 15)}
