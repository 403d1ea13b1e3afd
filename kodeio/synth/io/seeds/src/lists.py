"""List manipulation: windows, partitions, rotations, merges."""

import random

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "list"


def _ints(lo: int, hi: int, max_len: int, min_len: int = 0) -> list:
    return [random.randint(lo, hi) for _ in range(random.randint(min_len, max_len))]


@seed(
    """Returns the odd numbers from 1 to N in increasing order, as a list. Input: an integer
    N from 0 to 35. Output: the list of odd numbers not larger than N."""
)
def get_odds(N: int) -> list[int]:
    return [x for x in range(1, N + 1) if x % 2 == 1]


@inputs_for(get_odds)
def get_odds_inputs() -> dict:
    return {"N": random.randint(0, 35)}


@seed(
    """Rotates a list to the right by k positions (k may exceed the length or be negative,
    which rotates left). Input: a list of up to 12 integers and k from -20 to 20. Output:
    the rotated list."""
)
def rotate_right(items: list[int], k: int) -> list[int]:
    if not items:
        return []
    k %= len(items)
    return items[-k:] + items[:-k] if k else list(items)


@inputs_for(rotate_right)
def rotate_right_inputs() -> dict:
    return {"items": _ints(0, 9, 12), "k": random.randint(-20, 20)}


@seed(
    """Computes the moving average of a list over a window of size w, one value per full
    window, each rounded to 2 decimals. Input: a list of up to 15 integers and w from 1 to
    5. Output: the list of averages (empty when the list is shorter than w)."""
)
def moving_average(values: list[int], w: int) -> list[float]:
    out = []
    total = 0
    for i, v in enumerate(values):
        total += v
        if i >= w:
            total -= values[i - w]
        if i >= w - 1:
            out.append(round(total / w, 2))
    return out


@inputs_for(moving_average)
def moving_average_inputs() -> dict:
    return {"values": _ints(0, 50, 15), "w": random.randint(1, 5)}


@seed(
    """Finds the maximum-sum contiguous sub-list with Kadane's algorithm and returns its sum
    and bounds (the earliest such sub-list on ties). Input: a non-empty list of up to 15
    integers, possibly negative. Output: a dict with "sum", "start" and "end" (inclusive)."""
)
def max_subarray(nums: list[int]) -> dict:
    best = nums[0]
    best_range = (0, 0)
    current = 0
    start = 0
    for i, x in enumerate(nums):
        if current <= 0:
            current = x
            start = i
        else:
            current += x
        if current > best:
            best = current
            best_range = (start, i)
    return {"sum": best, "start": best_range[0], "end": best_range[1]}


@inputs_for(max_subarray)
def max_subarray_inputs() -> dict:
    return {"nums": _ints(-10, 10, 15, 1)}


@seed(
    """Splits a list into chunks of size n (the last one may be shorter) and returns the
    chunks together with each chunk's sum. Input: a list of up to 16 integers and n from 1
    to 5. Output: a dict with "chunks" and "sums"."""
)
def chunk_sums(items: list[int], n: int) -> dict:
    chunks = [items[i : i + n] for i in range(0, len(items), n)]
    return {"chunks": chunks, "sums": [sum(c) for c in chunks]}


@inputs_for(chunk_sums)
def chunk_sums_inputs() -> dict:
    return {"items": _ints(1, 9, 16), "n": random.randint(1, 5)}


@seed(
    """Removes duplicates from a list while keeping the first occurrence of every value and
    counting how many were dropped. Input: a list of up to 18 small integers. Output: a dict
    with "unique" (in first-seen order) and "dropped"."""
)
def dedupe_stable(items: list[int]) -> dict:
    seen = set()
    unique = []
    for x in items:
        if x not in seen:
            seen.add(x)
            unique.append(x)
    return {"unique": unique, "dropped": len(items) - len(unique)}


@inputs_for(dedupe_stable)
def dedupe_stable_inputs() -> dict:
    return {"items": _ints(0, 8, 18)}


@seed(
    """Merges overlapping or touching closed intervals after sorting them by start. Input:
    a list of up to 10 [start, end] pairs with start <= end. Output: the merged intervals in
    increasing order."""
)
def merge_intervals(intervals: list[list[int]]) -> list[list[int]]:
    merged: list[list[int]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return merged


@inputs_for(merge_intervals)
def merge_intervals_inputs() -> dict:
    out = []
    for _ in range(random.randint(0, 10)):
        a = random.randint(0, 30)
        out.append([a, a + random.randint(0, 6)])
    return {"intervals": out}


@seed(
    """Finds the indices of two numbers that add up to a target using a dictionary of
    previously seen values (the first pair completed while scanning left to right). Input:
    a list of up to 12 integers and a target. Output: [i, j] with i < j, or [] if none."""
)
def two_sum(nums: list[int], target: int) -> list[int]:
    seen: dict[int, int] = {}
    for j, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], j]
        seen.setdefault(x, j)
    return []


@inputs_for(two_sum)
def two_sum_inputs() -> dict:
    return {"nums": _ints(-5, 15, 12), "target": random.randint(0, 20)}


@seed(
    """Transposes a rectangular matrix (rows become columns). Input: a list of 1 to 4 rows,
    each with the same number (1 to 4) of integers. Output: the transposed matrix."""
)
def transpose(matrix: list[list[int]]) -> list[list[int]]:
    return [[row[c] for row in matrix] for c in range(len(matrix[0]))]


@inputs_for(transpose)
def transpose_inputs() -> dict:
    rows, cols = random.randint(1, 4), random.randint(1, 4)
    return {"matrix": [[random.randint(0, 9) for _ in range(cols)] for _ in range(rows)]}


@seed(
    """Reads a matrix in spiral order: along the top row, down the right column, back along
    the bottom row and up the left column, repeating inward. Input: a rectangular matrix of
    up to 4 x 4 integers. Output: the list of values in spiral order."""
)
def spiral_order(matrix: list[list[int]]) -> list[int]:
    out = []
    top, bottom, left, right = 0, len(matrix) - 1, 0, len(matrix[0]) - 1
    while top <= bottom and left <= right:
        out.extend(matrix[top][c] for c in range(left, right + 1))
        out.extend(matrix[r][right] for r in range(top + 1, bottom + 1))
        if top < bottom:
            out.extend(matrix[bottom][c] for c in range(right - 1, left - 1, -1))
        if left < right:
            out.extend(matrix[r][left] for r in range(bottom - 1, top, -1))
        top, bottom, left, right = top + 1, bottom - 1, left + 1, right - 1
    return out


@inputs_for(spiral_order)
def spiral_order_inputs() -> dict:
    rows, cols = random.randint(1, 4), random.randint(1, 4)
    return {"matrix": [[random.randint(0, 20) for _ in range(cols)] for _ in range(rows)]}


@seed(
    """Partitions a list around a pivot in three groups (smaller, equal, larger), keeping
    the original order inside each group, and returns their concatenation and the group
    sizes. Input: a list of up to 15 integers and a pivot. Output: a dict with "arranged"
    and "sizes" ([smaller, equal, larger])."""
)
def three_way_partition(items: list[int], pivot: int) -> dict:
    low = [x for x in items if x < pivot]
    mid = [x for x in items if x == pivot]
    high = [x for x in items if x > pivot]
    return {"arranged": low + mid + high, "sizes": [len(low), len(mid), len(high)]}


@inputs_for(three_way_partition)
def three_way_partition_inputs() -> dict:
    return {"items": _ints(0, 9, 15), "pivot": random.randint(0, 9)}


@seed(
    """For each element, finds the next element to its right that is strictly greater,
    with a monotonic stack. Input: a list of up to 15 integers. Output: a list of the same
    length holding that greater value, or -1 when there is none."""
)
def next_greater(nums: list[int]) -> list[int]:
    result = [-1] * len(nums)
    stack: list[int] = []
    for i, x in enumerate(nums):
        while stack and nums[stack[-1]] < x:
            result[stack.pop()] = x
        stack.append(i)
    return result


@inputs_for(next_greater)
def next_greater_inputs() -> dict:
    return {"nums": _ints(0, 20, 15)}


@seed(
    """Interleaves two lists element by element, then appends the rest of the longer one,
    and reports which list ran out first. Input: two lists of up to 8 integers each.
    Output: a dict with "merged" and "exhausted" ("a", "b" or "both")."""
)
def interleave(a: list[int], b: list[int]) -> dict:
    merged = []
    for x, y in zip(a, b, strict=False):
        merged.extend([x, y])
    n = min(len(a), len(b))
    merged.extend(a[n:] or b[n:])
    if len(a) == len(b):
        exhausted = "both"
    else:
        exhausted = "a" if len(a) < len(b) else "b"
    return {"merged": merged, "exhausted": exhausted}


@inputs_for(interleave)
def interleave_inputs() -> dict:
    return {"a": _ints(0, 9, 8), "b": _ints(10, 19, 8)}


@seed(
    """Computes prefix sums of a list and answers range-sum queries with them. Input: a list
    of up to 12 integers and up to 5 queries [i, j] (inclusive, 0 <= i <= j < len).
    Output: the list of sums, one per query."""
)
def range_sums(nums: list[int], queries: list[list[int]]) -> list[int]:
    prefix = [0]
    for x in nums:
        prefix.append(prefix[-1] + x)
    return [prefix[j + 1] - prefix[i] for i, j in queries]


@inputs_for(range_sums)
def range_sums_inputs() -> dict:
    nums = _ints(-9, 9, 12, 1)
    queries = []
    for _ in range(random.randint(1, 5)):
        i = random.randrange(len(nums))
        queries.append([i, random.randint(i, len(nums) - 1)])
    return {"nums": nums, "queries": queries}


@seed(
    """Compares two lists as multisets: which values are only in the first list, only in
    the second, and in both (with multiplicity). Input: two lists of up to 10 small
    integers. Output: a dict with sorted lists "only_a", "only_b" and "common"."""
)
def multiset_diff(a: list[int], b: list[int]) -> dict:
    counts: dict[int, int] = {}
    for x in a:
        counts[x] = counts.get(x, 0) + 1
    only_b = []
    common = []
    for y in b:
        if counts.get(y, 0) > 0:
            counts[y] -= 1
            common.append(y)
        else:
            only_b.append(y)
    only_a = [x for x, c in counts.items() for _ in range(c)]
    return {"only_a": sorted(only_a), "only_b": sorted(only_b), "common": sorted(common)}


@inputs_for(multiset_diff)
def multiset_diff_inputs() -> dict:
    return {"a": _ints(0, 6, 10), "b": _ints(0, 6, 10)}
