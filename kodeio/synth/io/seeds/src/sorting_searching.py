"""Sorting and searching: classic algorithms with visible intermediate work."""

import random

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "sorting_searching"


def _ints(max_len: int, lo: int = 0, hi: int = 30) -> list:
    return [random.randint(lo, hi) for _ in range(random.randint(0, max_len))]


@seed(
    """Searches a sorted list with binary search and records the midpoints probed. Input: a
    sorted list of up to 15 distinct integers and a target. Output: a dict with "index" (-1
    if absent) and "probes" (the list of indices inspected)."""
)
def binary_search_trace(items: list[int], target: int) -> dict:
    lo, hi = 0, len(items) - 1
    probes = []
    while lo <= hi:
        mid = (lo + hi) // 2
        probes.append(mid)
        if items[mid] == target:
            return {"index": mid, "probes": probes}
        if items[mid] < target:
            lo = mid + 1
        else:
            hi = mid - 1
    return {"index": -1, "probes": probes}


@inputs_for(binary_search_trace)
def binary_search_trace_inputs() -> dict:
    items = sorted(random.sample(range(0, 50), random.randint(1, 15)))
    target = random.choice(items) if random.random() < 0.6 else random.randint(0, 50)
    return {"items": items, "target": target}


@seed(
    """Sorts a list with bubble sort and counts the swaps and the passes made (stopping
    early after a pass with no swap). Input: a list of up to 10 integers. Output: a dict with
    "sorted", "swaps" and "passes"."""
)
def bubble_sort_stats(items: list[int]) -> dict:
    xs = list(items)
    swaps = passes = 0
    for end in range(len(xs) - 1, 0, -1):
        passes += 1
        swapped = False
        for i in range(end):
            if xs[i] > xs[i + 1]:
                xs[i], xs[i + 1] = xs[i + 1], xs[i]
                swaps += 1
                swapped = True
        if not swapped:
            break
    return {"sorted": xs, "swaps": swaps, "passes": passes}


@inputs_for(bubble_sort_stats)
def bubble_sort_stats_inputs() -> dict:
    return {"items": _ints(10)}


@seed(
    """Sorts a list with insertion sort and returns the list after each outer step (the
    first element alone counts as sorted, so there are len - 1 snapshots). Input: a list of
    2 to 6 integers. Output: the list of snapshots."""
)
def insertion_snapshots(items: list[int]) -> list[list[int]]:
    xs = list(items)
    snapshots = []
    for i in range(1, len(xs)):
        key = xs[i]
        j = i - 1
        while j >= 0 and xs[j] > key:
            xs[j + 1] = xs[j]
            j -= 1
        xs[j + 1] = key
        snapshots.append(list(xs))
    return snapshots


@inputs_for(insertion_snapshots)
def insertion_snapshots_inputs() -> dict:
    return {"items": [random.randint(0, 9) for _ in range(random.randint(2, 6))]}


@seed(
    """Sorts records by several keys: by "score" descending, then "age" ascending, then
    "name" alphabetically. Input: a list of up to 8 dicts with "name", "age" and "score".
    Output: the list of names in sorted order."""
)
def rank_records(records: list[dict]) -> list[str]:
    ordered = sorted(records, key=lambda r: (-r["score"], r["age"], r["name"]))
    return [r["name"] for r in ordered]


@inputs_for(rank_records)
def rank_records_inputs() -> dict:
    names = random.sample(
        ["ana", "bo", "cy", "di", "ed", "fay", "gus", "hal"], random.randint(1, 8)
    )
    return {
        "records": [
            {"name": n, "age": random.randint(18, 22), "score": random.randint(5, 8)} for n in names
        ]
    }


@seed(
    """Counts inversions (pairs i < j with a[i] > a[j]) with a merge-sort based count, and
    reports whether the list is already sorted. Input: a list of up to 15 integers. Output:
    a dict with "inversions" and "sorted"."""
)
def count_inversions(items: list[int]) -> dict:
    def sort_count(xs: list[int]) -> tuple[list[int], int]:
        if len(xs) <= 1:
            return xs, 0
        mid = len(xs) // 2
        left, a = sort_count(xs[:mid])
        right, b = sort_count(xs[mid:])
        merged, count, i, j = [], a + b, 0, 0
        while i < len(left) and j < len(right):
            if left[i] <= right[j]:
                merged.append(left[i])
                i += 1
            else:
                merged.append(right[j])
                count += len(left) - i
                j += 1
        return merged + left[i:] + right[j:], count

    _, inversions = sort_count(list(items))
    return {"inversions": inversions, "sorted": inversions == 0}


@inputs_for(count_inversions)
def count_inversions_inputs() -> dict:
    return {"items": _ints(15)}


@seed(
    """Finds the k-th smallest element with quickselect using the last element as pivot
    (Lomuto partition) and counts the partition rounds. Input: a list of 1 to 12 integers and
    k from 1 to its length. Output: a dict with "value" and "rounds"."""
)
def quickselect(items: list[int], k: int) -> dict:
    xs = list(items)
    lo, hi = 0, len(xs) - 1
    target = k - 1
    rounds = 0
    while True:
        rounds += 1
        pivot = xs[hi]
        store = lo
        for i in range(lo, hi):
            if xs[i] < pivot:
                xs[i], xs[store] = xs[store], xs[i]
                store += 1
        xs[store], xs[hi] = xs[hi], xs[store]
        if store == target:
            return {"value": xs[store], "rounds": rounds}
        if store < target:
            lo = store + 1
        else:
            hi = store - 1


@inputs_for(quickselect)
def quickselect_inputs() -> dict:
    items = _ints(12)
    items = items or [random.randint(0, 30)]
    return {"items": items, "k": random.randint(1, len(items))}


@seed(
    """Finds the first and last positions of a value in a sorted list with two binary
    searches (lower and upper bound). Input: a sorted list of up to 15 integers with repeats
    and a target. Output: [first, last], or [-1, -1] when the value is absent."""
)
def value_range(items: list[int], target: int) -> list[int]:
    def bound(strict: bool) -> int:
        lo, hi = 0, len(items)
        while lo < hi:
            mid = (lo + hi) // 2
            if items[mid] < target or (strict and items[mid] == target):
                lo = mid + 1
            else:
                hi = mid
        return lo

    first = bound(False)
    if first == len(items) or items[first] != target:
        return [-1, -1]
    return [first, bound(True) - 1]


@inputs_for(value_range)
def value_range_inputs() -> dict:
    items = sorted(random.randint(0, 8) for _ in range(random.randint(0, 15)))
    return {"items": items, "target": random.randint(0, 8)}


@seed(
    """Sorts small non-negative integers with counting sort and returns the count table
    along with the sorted list. Input: a list of up to 15 integers from 0 to 9. Output: a
    dict with "counts" (10 numbers) and "sorted"."""
)
def counting_sort(items: list[int]) -> dict:
    counts = [0] * 10
    for x in items:
        counts[x] += 1
    ordered = [value for value, c in enumerate(counts) for _ in range(c)]
    return {"counts": counts, "sorted": ordered}


@inputs_for(counting_sort)
def counting_sort_inputs() -> dict:
    return {"items": [random.randint(0, 9) for _ in range(random.randint(0, 15))]}


@seed(
    """Finds a peak element (one not smaller than its neighbours) by binary search on the
    slope, and lists all peaks by a linear scan for comparison. Input: a non-empty list of up
    to 12 integers. Output: a dict with the "found" index and the list of "all" peak
    indices."""
)
def find_peaks(nums: list[int]) -> dict:
    lo, hi = 0, len(nums) - 1
    while lo < hi:
        mid = (lo + hi) // 2
        if nums[mid] < nums[mid + 1]:
            lo = mid + 1
        else:
            hi = mid
    peaks = [
        i
        for i in range(len(nums))
        if (i == 0 or nums[i] >= nums[i - 1]) and (i == len(nums) - 1 or nums[i] >= nums[i + 1])
    ]
    return {"found": lo, "all": peaks}


@inputs_for(find_peaks)
def find_peaks_inputs() -> dict:
    return {"nums": [random.randint(0, 9) for _ in range(random.randint(1, 12))]}


@seed(
    """Searches a rotated sorted list (a sorted list of distinct values rotated at some
    pivot) for a target in logarithmic steps, deciding at each step which half is sorted.
    Input: the rotated list and a target. Output: the index of the target or -1."""
)
def search_rotated(nums: list[int], target: int) -> int:
    lo, hi = 0, len(nums) - 1
    while lo <= hi:
        mid = (lo + hi) // 2
        if nums[mid] == target:
            return mid
        if nums[lo] <= nums[mid]:
            if nums[lo] <= target < nums[mid]:
                hi = mid - 1
            else:
                lo = mid + 1
        else:
            if nums[mid] < target <= nums[hi]:
                lo = mid + 1
            else:
                hi = mid - 1
    return -1


@inputs_for(search_rotated)
def search_rotated_inputs() -> dict:
    base = sorted(random.sample(range(50), random.randint(1, 12)))
    k = random.randrange(len(base))
    return {"nums": base[k:] + base[:k], "target": random.choice(base + [random.randint(0, 50)])}


@seed(
    """Merges k sorted lists into one by repeatedly taking the smallest head (first list wins
    ties) and records which list each element came from. Input: up to 4 sorted lists of up to
    5 integers. Output: a dict with "merged" and "sources" (list indices)."""
)
def merge_k_sorted(lists: list[list[int]]) -> dict:
    heads = [0] * len(lists)
    merged, sources = [], []
    while True:
        best = -1
        for i, lst in enumerate(lists):
            if heads[i] < len(lst) and (best == -1 or lst[heads[i]] < lists[best][heads[best]]):
                best = i
        if best == -1:
            return {"merged": merged, "sources": sources}
        merged.append(lists[best][heads[best]])
        sources.append(best)
        heads[best] += 1


@inputs_for(merge_k_sorted)
def merge_k_sorted_inputs() -> dict:
    k = random.randint(1, 4)
    return {
        "lists": [
            sorted(random.randint(0, 20) for _ in range(random.randint(0, 5))) for _ in range(k)
        ]
    }


@seed(
    """Sorts strings by length, then alphabetically, after removing duplicates, and groups
    them by length. Input: a list of up to 12 short words. Output: a list of [length, words]
    pairs in increasing length."""
)
def group_by_length(words: list[str]) -> list[list]:
    groups: dict[int, list[str]] = {}
    for word in sorted(set(words), key=lambda w: (len(w), w)):
        groups.setdefault(len(word), []).append(word)
    return [[length, ws] for length, ws in groups.items()]


@inputs_for(group_by_length)
def group_by_length_inputs() -> dict:
    pool = ["a", "to", "be", "cat", "dog", "ax", "tree", "moon", "sun", "i", "zebra", "apple"]
    return {"words": [random.choice(pool) for _ in range(random.randint(0, 12))]}


@seed(
    """Finds the integer square root of n by binary search on the answer (the largest r
    with r * r <= n) and returns the number of iterations used. Input: n from 0 to 10^9.
    Output: a list [root, iterations]."""
)
def sqrt_by_bisection(n: int) -> list[int]:
    lo, hi = 0, n
    iterations = 0
    while lo < hi:
        iterations += 1
        mid = (lo + hi + 1) // 2
        if mid * mid <= n:
            lo = mid
        else:
            hi = mid - 1
    return [lo, iterations]


@inputs_for(sqrt_by_bisection)
def sqrt_by_bisection_inputs() -> dict:
    return {"n": random.randint(0, 10 ** random.randint(1, 9))}
