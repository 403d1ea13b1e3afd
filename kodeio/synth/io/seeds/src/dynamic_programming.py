"""Dynamic programming: tables filled from smaller subproblems."""

import random

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "dynamic_programming"


@seed(
    """Solves the 0/1 knapsack problem with a table over items and capacities and returns
    the best value and the chosen item indices (reconstructed from the table). Input: a list
    of up to 8 [weight, value] items and a capacity up to 25. Output: a dict with "value"
    and "items" (sorted indices)."""
)
def knapsack(items: list[list[int]], capacity: int) -> dict:
    n = len(items)
    table = [[0] * (capacity + 1) for _ in range(n + 1)]
    for i, (w, v) in enumerate(items, 1):
        for c in range(capacity + 1):
            table[i][c] = table[i - 1][c]
            if w <= c and table[i - 1][c - w] + v > table[i][c]:
                table[i][c] = table[i - 1][c - w] + v
    chosen = []
    c = capacity
    for i in range(n, 0, -1):
        if table[i][c] != table[i - 1][c]:
            chosen.append(i - 1)
            c -= items[i - 1][0]
    return {"value": table[n][capacity], "items": sorted(chosen)}


@inputs_for(knapsack)
def knapsack_inputs() -> dict:
    items = [[random.randint(1, 10), random.randint(1, 20)] for _ in range(random.randint(1, 8))]
    return {"items": items, "capacity": random.randint(1, 25)}


@seed(
    """Finds the length of the longest common subsequence of two strings with the classic
    table and reconstructs one such subsequence (preferring to move up on ties). Input: two
    strings of up to 12 letters. Output: a list [length, subsequence]."""
)
def lcs(a: str, b: str) -> list:
    table = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            if a[i - 1] == b[j - 1]:
                table[i][j] = table[i - 1][j - 1] + 1
            else:
                table[i][j] = max(table[i - 1][j], table[i][j - 1])
    out = []
    i, j = len(a), len(b)
    while i and j:
        if a[i - 1] == b[j - 1]:
            out.append(a[i - 1])
            i, j = i - 1, j - 1
        elif table[i - 1][j] >= table[i][j - 1]:
            i -= 1
        else:
            j -= 1
    return [table[-1][-1], "".join(reversed(out))]


@inputs_for(lcs)
def lcs_inputs() -> dict:
    def word() -> str:
        return "".join(random.choice("abcd") for _ in range(random.randint(1, 12)))

    return {"a": word(), "b": word()}


@seed(
    """Counts the minimum number of coins needed to make an amount and the number of
    distinct coin combinations (order ignored) that make it, from unlimited coins of the
    given denominations. Input: a list of 1 to 4 coin values and an amount up to 60. Output:
    a dict with "fewest" (-1 if impossible) and "ways"."""
)
def coin_change(coins: list[int], amount: int) -> dict:
    big = amount + 1
    fewest = [0] + [big] * amount
    ways = [1] + [0] * amount
    for coin in coins:
        for x in range(coin, amount + 1):
            ways[x] += ways[x - coin]
            fewest[x] = min(fewest[x], fewest[x - coin] + 1)
    return {"fewest": fewest[amount] if fewest[amount] < big else -1, "ways": ways[amount]}


@inputs_for(coin_change)
def coin_change_inputs() -> dict:
    coins = sorted(random.sample([1, 2, 3, 5, 7, 10, 25], random.randint(1, 4)))
    return {"coins": coins, "amount": random.randint(0, 60)}


@seed(
    """Finds the longest strictly increasing subsequence with the O(n^2) table, returning its
    length and the subsequence that ends earliest among the longest ones. Input: a list of up
    to 14 integers. Output: a dict with "length" and "sequence"."""
)
def longest_increasing(nums: list[int]) -> dict:
    if not nums:
        return {"length": 0, "sequence": []}
    length = [1] * len(nums)
    previous = [-1] * len(nums)
    for i in range(len(nums)):
        for j in range(i):
            if nums[j] < nums[i] and length[j] + 1 > length[i]:
                length[i] = length[j] + 1
                previous[i] = j
    end = length.index(max(length))
    seq = []
    while end != -1:
        seq.append(nums[end])
        end = previous[end]
    return {"length": max(length), "sequence": seq[::-1]}


@inputs_for(longest_increasing)
def longest_increasing_inputs() -> dict:
    return {"nums": [random.randint(0, 20) for _ in range(random.randint(0, 14))]}


@seed(
    """Finds the minimum-cost path from the top-left to the bottom-right of a grid moving
    only right or down, with the path cost being the sum of visited cells. Input: a grid of
    up to 5 x 5 non-negative integers. Output: a dict with "cost" and the "moves" string of
    "R"/"D" (preferring "D" on ties when walking back)."""
)
def min_path_grid(grid: list[list[int]]) -> dict:
    rows, cols = len(grid), len(grid[0])
    cost = [[0] * cols for _ in range(rows)]
    for r in range(rows):
        for c in range(cols):
            if r == 0 and c == 0:
                best = 0
            elif r == 0:
                best = cost[r][c - 1]
            elif c == 0:
                best = cost[r - 1][c]
            else:
                best = min(cost[r - 1][c], cost[r][c - 1])
            cost[r][c] = best + grid[r][c]
    moves = []
    r, c = rows - 1, cols - 1
    while r or c:
        if c == 0 or (r > 0 and cost[r - 1][c] <= cost[r][c - 1]):
            moves.append("D")
            r -= 1
        else:
            moves.append("R")
            c -= 1
    return {"cost": cost[-1][-1], "moves": "".join(reversed(moves))}


@inputs_for(min_path_grid)
def min_path_grid_inputs() -> dict:
    rows, cols = random.randint(1, 5), random.randint(1, 5)
    return {"grid": [[random.randint(0, 9) for _ in range(cols)] for _ in range(rows)]}


@seed(
    """Decides whether a list of positive integers can be split into two groups of equal sum
    (subset-sum table over reachable sums), and returns the target half-sum. Input: a list
    of up to 10 integers from 1 to 15. Output: a dict with "possible" and "half" (the half
    sum, or -1 when the total is odd)."""
)
def equal_partition(nums: list[int]) -> dict:
    total = sum(nums)
    if total % 2:
        return {"possible": False, "half": -1}
    half = total // 2
    reachable = [True] + [False] * half
    for x in nums:
        for s in range(half, x - 1, -1):
            reachable[s] = reachable[s] or reachable[s - x]
    return {"possible": reachable[half], "half": half}


@inputs_for(equal_partition)
def equal_partition_inputs() -> dict:
    return {"nums": [random.randint(1, 15) for _ in range(random.randint(1, 10))]}


@seed(
    """Computes the maximum amount a robber can take from houses in a row without robbing
    two neighbours, and which houses to rob. Input: a list of up to 12 non-negative amounts.
    Output: a dict with "total" and "houses" (indices in increasing order)."""
)
def house_robber(amounts: list[int]) -> dict:
    n = len(amounts)
    best = [0] * (n + 1)
    for i in range(1, n + 1):
        take = amounts[i - 1] + (best[i - 2] if i >= 2 else 0)
        best[i] = max(best[i - 1], take)
    houses = []
    i = n
    while i >= 1:
        if best[i] != best[i - 1]:
            houses.append(i - 1)
            i -= 2
        else:
            i -= 1
    return {"total": best[n], "houses": houses[::-1]}


@inputs_for(house_robber)
def house_robber_inputs() -> dict:
    return {"amounts": [random.randint(0, 20) for _ in range(random.randint(0, 12))]}


@seed(
    """Counts the ways to decode a digit string where "1" to "26" map to letters A to Z (a
    "0" can only appear as part of "10" or "20"). Input: a string of up to 15 digits.
    Output: the number of decodings (0 when none)."""
)
def decode_ways(digits: str) -> int:
    if not digits:
        return 0
    prev, cur = 1, 0 if digits[0] == "0" else 1
    for i in range(1, len(digits)):
        nxt = 0
        if digits[i] != "0":
            nxt += cur
        if 10 <= int(digits[i - 1 : i + 1]) <= 26:
            nxt += prev
        prev, cur = cur, nxt
    return cur


@inputs_for(decode_ways)
def decode_ways_inputs() -> dict:
    return {"digits": "".join(random.choice("1122260") for _ in range(random.randint(1, 15)))}


@seed(
    """Breaks a string into dictionary words with a table of reachable prefixes and returns
    one segmentation (the one using the longest last word at each step), or an empty list
    when impossible. Input: a string of up to 20 letters and a small dictionary. Output:
    the list of words."""
)
def word_break(text: str, words: list[str]) -> list[str]:
    vocab = set(words)
    best: list = [None] * (len(text) + 1)
    best[0] = []
    for end in range(1, len(text) + 1):
        for start in range(end):
            if best[start] is not None and text[start:end] in vocab:
                best[end] = best[start] + [text[start:end]]
                break
    return best[len(text)] or []


@inputs_for(word_break)
def word_break_inputs() -> dict:
    vocab = ["a", "an", "ant", "tan", "t", "nat", "at", "ta"]
    text = "".join(random.choice(vocab) for _ in range(random.randint(1, 5)))
    if random.random() < 0.3:
        text += "x"
    return {"text": text, "words": vocab}


@seed(
    """Computes the maximum sum of a path from the apex to the base of a number triangle,
    stepping to one of the two adjacent numbers in the row below, by folding the rows from
    the bottom. Input: a triangle of 1 to 6 rows. Output: the maximum total."""
)
def triangle_path(triangle: list[list[int]]) -> int:
    best = list(triangle[-1])
    for row in reversed(triangle[:-1]):
        best = [x + max(best[i], best[i + 1]) for i, x in enumerate(row)]
    return best[0]


@inputs_for(triangle_path)
def triangle_path_inputs() -> dict:
    rows = random.randint(1, 6)
    return {"triangle": [[random.randint(0, 9) for _ in range(r + 1)] for r in range(rows)]}


@seed(
    """Finds the cheapest way to cut a rod of length n into pieces given a price per piece
    length, maximizing revenue (rod cutting). Input: a list of prices for lengths 1..k (k up
    to 8) and n up to 12. Output: a dict with the best "revenue" and the "pieces" lengths in
    the order the table's choices give them."""
)
def rod_cutting(prices: list[int], n: int) -> dict:
    best = [0] * (n + 1)
    first_cut = [0] * (n + 1)
    for length in range(1, n + 1):
        for cut in range(1, min(length, len(prices)) + 1):
            value = prices[cut - 1] + best[length - cut]
            if value > best[length]:
                best[length] = value
                first_cut[length] = cut
    pieces = []
    while n > 0 and first_cut[n]:
        pieces.append(first_cut[n])
        n -= first_cut[n]
    return {"revenue": best[-1] if best else 0, "pieces": pieces}


@inputs_for(rod_cutting)
def rod_cutting_inputs() -> dict:
    k = random.randint(1, 8)
    return {
        "prices": [random.randint(1, 4 * i + 2) for i in range(1, k + 1)],
        "n": random.randint(1, 12),
    }


@seed(
    """Finds the side of the largest square made only of "1" cells in a 0/1 grid, where each
    cell's table entry is one more than the minimum of its top, left and top-left entries.
    Input: a list of up to 6 equal-length 0/1 strings. Output: a dict with the "side" and
    the bottom-right "corner" [row, col] of the first largest square ([-1, -1] if none)."""
)
def largest_square(grid: list[str]) -> dict:
    rows, cols = len(grid), len(grid[0])
    size = [[0] * cols for _ in range(rows)]
    best, corner = 0, [-1, -1]
    for r in range(rows):
        for c in range(cols):
            if grid[r][c] == "1":
                if r and c:
                    size[r][c] = 1 + min(size[r - 1][c], size[r][c - 1], size[r - 1][c - 1])
                else:
                    size[r][c] = 1
                if size[r][c] > best:
                    best, corner = size[r][c], [r, c]
    return {"side": best, "corner": corner}


@inputs_for(largest_square)
def largest_square_inputs() -> dict:
    rows, cols = random.randint(1, 6), random.randint(1, 6)
    return {"grid": ["".join(random.choice("0111") for _ in range(cols)) for _ in range(rows)]}


@seed(
    """Counts the distinct binary search trees (by shape) on n keys and the number of
    integer partitions of n, both by tabulation. Input: n from 0 to 18. Output: a dict with
    "bst_shapes" and "partitions"."""
)
def counting_tables(n: int) -> dict:
    shapes = [1] + [0] * n
    for k in range(1, n + 1):
        shapes[k] = sum(shapes[i] * shapes[k - 1 - i] for i in range(k))
    parts = [1] + [0] * n
    for part in range(1, n + 1):
        for total in range(part, n + 1):
            parts[total] += parts[total - part]
    return {"bst_shapes": shapes[n], "partitions": parts[n]}


@inputs_for(counting_tables)
def counting_tables_inputs() -> dict:
    return {"n": random.randint(0, 18)}


@seed(
    """Schedules weighted jobs without overlaps to maximize total profit: jobs are sorted by
    end time and each either joins the best compatible schedule before its start or is
    skipped. Input: a list of up to 8 [start, end, profit] jobs (end > start). Output: the
    maximum total profit."""
)
def job_scheduling(jobs: list[list[int]]) -> int:
    ordered = sorted(jobs, key=lambda j: j[1])
    best = [0] * (len(ordered) + 1)
    for i, (start, _end, profit) in enumerate(ordered, 1):
        k = i - 1
        while k > 0 and ordered[k - 1][1] > start:
            k -= 1
        best[i] = max(best[i - 1], best[k] + profit)
    return best[-1]


@inputs_for(job_scheduling)
def job_scheduling_inputs() -> dict:
    jobs = []
    for _ in range(random.randint(1, 8)):
        s = random.randint(0, 15)
        jobs.append([s, s + random.randint(1, 6), random.randint(1, 20)])
    return {"jobs": jobs}
