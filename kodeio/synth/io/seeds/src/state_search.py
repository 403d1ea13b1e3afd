"""State-space search: BFS/DFS on grids and graphs, backtracking."""

import random
from collections import deque
from heapq import heappop, heappush

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "state_search"


def _random_grid(rows: int, cols: int, wall: float) -> list:
    cells = [["#" if random.random() < wall else "." for _ in range(cols)] for _ in range(rows)]
    cells[0][0] = "."  # start and goal are always open
    cells[-1][-1] = "."
    return ["".join(row) for row in cells]


@seed(
    """Finds the length of the shortest path in a grid maze from the top-left to the
    bottom-right cell with breadth-first search, moving up, down, left or right through "."
    cells and never through "#". Input: a list of equal-length strings (up to 8 x 8).
    Output: the number of moves, or -1 when the goal cannot be reached."""
)
def maze_shortest_path(grid: list[str]) -> int:
    rows, cols = len(grid), len(grid[0])
    goal = (rows - 1, cols - 1)
    seen = {(0, 0)}
    queue = deque([((0, 0), 0)])
    while queue:
        (r, c), dist = queue.popleft()
        if (r, c) == goal:
            return dist
        for dr, dc in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            nr, nc = r + dr, c + dc
            if 0 <= nr < rows and 0 <= nc < cols and grid[nr][nc] == "." and (nr, nc) not in seen:
                seen.add((nr, nc))
                queue.append(((nr, nc), dist + 1))
    return -1


@inputs_for(maze_shortest_path)
def maze_shortest_path_inputs() -> dict:
    return {"grid": _random_grid(random.randint(2, 8), random.randint(2, 8), 0.3)}


@seed(
    """Counts the islands in a grid of "1" (land) and "0" (water), where land cells joined
    horizontally or vertically form one island, using depth-first search, and reports the
    largest island's size. Input: a list of equal-length strings of 0/1 (up to 8 x 8).
    Output: a dict with "islands" and "largest"."""
)
def count_islands(grid: list[str]) -> dict:
    rows, cols = len(grid), len(grid[0])
    seen: set = set()
    sizes = []
    for r in range(rows):
        for c in range(cols):
            if grid[r][c] != "1" or (r, c) in seen:
                continue
            stack = [(r, c)]
            seen.add((r, c))
            size = 0
            while stack:
                cr, cc = stack.pop()
                size += 1
                for nr, nc in ((cr + 1, cc), (cr - 1, cc), (cr, cc + 1), (cr, cc - 1)):
                    inside = 0 <= nr < rows and 0 <= nc < cols
                    if inside and grid[nr][nc] == "1" and (nr, nc) not in seen:
                        seen.add((nr, nc))
                        stack.append((nr, nc))
            sizes.append(size)
    return {"islands": len(sizes), "largest": max(sizes, default=0)}


@inputs_for(count_islands)
def count_islands_inputs() -> dict:
    rows, cols = random.randint(1, 8), random.randint(1, 8)
    return {"grid": ["".join(random.choice("0011") for _ in range(cols)) for _ in range(rows)]}


@seed(
    """Solves the n-queens puzzle by backtracking: counts every placement of n queens on an
    n x n board with no two attacking each other, and returns the first solution found
    (column index per row, rows filled top to bottom, columns tried left to right).
    Input: n from 1 to 7. Output: a dict with "count" and "first" (an empty list if none)."""
)
def n_queens(n: int) -> dict:
    solutions: list[list[int]] = []
    cols: list[int] = []

    def place(row: int) -> None:
        if row == n:
            solutions.append(list(cols))
            return
        for c in range(n):
            if all(c != pc and abs(c - pc) != row - pr for pr, pc in enumerate(cols)):
                cols.append(c)
                place(row + 1)
                cols.pop()

    place(0)
    return {"count": len(solutions), "first": solutions[0] if solutions else []}


@inputs_for(n_queens)
def n_queens_inputs() -> dict:
    return {"n": random.randint(1, 7)}


@seed(
    """Orders tasks with Kahn's topological sort, always taking the alphabetically smallest
    ready task next, given prerequisite pairs [before, after]. Input: a list of task names
    and a list of dependency pairs. Output: the ordered list, or the string "cycle" when
    the dependencies contain a cycle."""
)
def task_order(tasks: list[str], deps: list[list[str]]):
    indegree = {t: 0 for t in tasks}
    after: dict[str, list[str]] = {t: [] for t in tasks}
    for before, later in deps:
        after[before].append(later)
        indegree[later] += 1
    ready = sorted(t for t in tasks if indegree[t] == 0)
    order = []
    while ready:
        task = ready.pop(0)
        order.append(task)
        for nxt in after[task]:
            indegree[nxt] -= 1
            if indegree[nxt] == 0:
                ready.append(nxt)
                ready.sort()
    return order if len(order) == len(tasks) else "cycle"


@inputs_for(task_order)
def task_order_inputs() -> dict:
    tasks = random.sample(list("abcdefgh"), random.randint(2, 7))
    deps = []
    for _ in range(random.randint(0, 7)):
        a, b = random.sample(tasks, 2)
        if [a, b] not in deps:
            deps.append([a, b])
    return {"tasks": tasks, "deps": deps}


@seed(
    """Finds the cheapest route between two nodes of a weighted undirected graph with
    Dijkstra's algorithm, breaking ties by the lexicographically smaller path. Input: a list
    of edges [u, v, w] with positive weights, a start and a goal node. Output: a dict with
    "cost" and "path" (cost -1 and an empty path when unreachable)."""
)
def cheapest_route(edges: list[list], start: str, goal: str) -> dict:
    graph: dict[str, list] = {}
    for u, v, w in edges:
        graph.setdefault(u, []).append((v, w))
        graph.setdefault(v, []).append((u, w))
    heap = [(0, [start])]
    done = set()
    while heap:
        cost, path = heappop(heap)
        node = path[-1]
        if node in done:
            continue
        done.add(node)
        if node == goal:
            return {"cost": cost, "path": path}
        for nxt, w in graph.get(node, []):
            if nxt not in done:
                heappush(heap, (cost + w, path + [nxt]))
    return {"cost": -1, "path": []}


@inputs_for(cheapest_route)
def cheapest_route_inputs() -> dict:
    nodes = list("ABCDEFG")[: random.randint(3, 7)]
    edges = []
    for _ in range(random.randint(2, 10)):
        u, v = random.sample(nodes, 2)
        edges.append([u, v, random.randint(1, 9)])
    start, goal = random.sample(nodes, 2)
    return {"edges": edges, "start": start, "goal": goal}


@seed(
    """Solves the water jug puzzle with breadth-first search over (a, b) fill states: jugs
    of capacities a and b start empty and each move fills, empties or pours one jug into the
    other. Input: capacities a and b (1 to 9) and a target amount. Output: the minimum
    number of moves until either jug holds the target, or -1 if impossible."""
)
def water_jugs(a: int, b: int, target: int) -> int:
    start = (0, 0)
    seen = {start}
    queue = deque([(start, 0)])
    while queue:
        (x, y), steps = queue.popleft()
        if x == target or y == target:
            return steps
        pour_xy = min(x, b - y)
        pour_yx = min(y, a - x)
        for state in (
            (a, y),
            (x, b),
            (0, y),
            (x, 0),
            (x - pour_xy, y + pour_xy),
            (x + pour_yx, y - pour_yx),
        ):
            if state not in seen:
                seen.add(state)
                queue.append((state, steps + 1))
    return -1


@inputs_for(water_jugs)
def water_jugs_inputs() -> dict:
    return {"a": random.randint(1, 9), "b": random.randint(1, 9), "target": random.randint(1, 9)}


@seed(
    """Counts the minimum knight moves between two squares of an n x n chessboard using
    breadth-first search. Input: the board size n (3 to 8) and the start and end squares
    as [row, col] pairs. Output: the number of moves, or -1 if the end cannot be reached."""
)
def knight_distance(n: int, start: list[int], end: list[int]) -> int:
    jumps = [(1, 2), (2, 1), (-1, 2), (-2, 1), (1, -2), (2, -1), (-1, -2), (-2, -1)]
    first = tuple(start)
    seen = {first}
    queue = deque([(first, 0)])
    while queue:
        (r, c), d = queue.popleft()
        if [r, c] == end:
            return d
        for dr, dc in jumps:
            nxt = (r + dr, c + dc)
            if 0 <= nxt[0] < n and 0 <= nxt[1] < n and nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, d + 1))
    return -1


@inputs_for(knight_distance)
def knight_distance_inputs() -> dict:
    n = random.randint(3, 8)
    return {
        "n": n,
        "start": [random.randrange(n), random.randrange(n)],
        "end": [random.randrange(n), random.randrange(n)],
    }


@seed(
    """Lists every combination of k numbers from 1..n that add up to a target, found by
    backtracking with numbers in increasing order. Input: n (up to 9), k (1 to 4) and the
    target. Output: the list of combinations (at most 15 are returned)."""
)
def combination_sum(n: int, k: int, target: int) -> list[list[int]]:
    found: list[list[int]] = []

    def extend(start: int, chosen: list[int], total: int) -> None:
        if len(chosen) == k:
            if total == target:
                found.append(list(chosen))
            return
        for x in range(start, n + 1):
            if total + x > target:
                break
            chosen.append(x)
            extend(x + 1, chosen, total + x)
            chosen.pop()

    extend(1, [], 0)
    return found[:15]


@inputs_for(combination_sum)
def combination_sum_inputs() -> dict:
    return {"n": random.randint(3, 9), "k": random.randint(1, 4), "target": random.randint(3, 20)}


@seed(
    """Checks whether a word can be traced in a letter grid by moving to horizontally or
    vertically adjacent cells without reusing a cell (depth-first backtracking), and returns
    the cells of the first trace found. Input: a list of equal-length strings (up to 5 x 5)
    and a word. Output: the list of [row, col] cells, or an empty list."""
)
def word_in_grid(grid: list[str], word: str) -> list:
    rows, cols = len(grid), len(grid[0])
    trail: list[list[int]] = []

    def trace(r: int, c: int, i: int) -> bool:
        if not (0 <= r < rows and 0 <= c < cols) or grid[r][c] != word[i] or [r, c] in trail:
            return False
        trail.append([r, c])
        if i == len(word) - 1:
            return True
        for dr, dc in ((0, 1), (1, 0), (0, -1), (-1, 0)):
            if trace(r + dr, c + dc, i + 1):
                return True
        trail.pop()
        return False

    for r in range(rows):
        for c in range(cols):
            if trace(r, c, 0):
                return trail
    return []


@inputs_for(word_in_grid)
def word_in_grid_inputs() -> dict:
    rows, cols = random.randint(2, 5), random.randint(2, 5)
    grid = ["".join(random.choice("abcde") for _ in range(cols)) for _ in range(rows)]
    word = "".join(random.choice("abcde") for _ in range(random.randint(2, 4)))
    return {"grid": grid, "word": word}


@seed(
    """Determines the connected components of an undirected graph with union-find and
    returns them sorted. Input: a number of nodes n (1 to 12, nodes 0..n-1) and a list of
    edges. Output: the list of components, each a sorted list, ordered by smallest node."""
)
def components(n: int, edges: list[list[int]]) -> list[list[int]]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for node in range(n):
        groups.setdefault(find(node), []).append(node)
    return sorted(groups.values())


@inputs_for(components)
def components_inputs() -> dict:
    n = random.randint(1, 12)
    edges = [[random.randrange(n), random.randrange(n)] for _ in range(random.randint(0, n))]
    return {"n": n, "edges": edges}


@seed(
    """Solves the sliding puzzle on a 2 x 3 board (tiles 1-5 and a blank 0) by
    breadth-first search over board states, where a move slides a neighbouring tile into the
    blank. The goal is [[1, 2, 3], [4, 5, 0]]. Input: the board as two rows. Output: the
    minimum number of moves, or -1 if the position cannot be solved."""
)
def sliding_puzzle(board: list[list[int]]) -> int:
    goal = "123450"
    start = "".join(str(x) for row in board for x in row)
    neighbours = {0: (1, 3), 1: (0, 2, 4), 2: (1, 5), 3: (0, 4), 4: (1, 3, 5), 5: (2, 4)}
    seen = {start}
    queue = deque([(start, 0)])
    while queue:
        state, moves = queue.popleft()
        if state == goal:
            return moves
        blank = state.index("0")
        for j in neighbours[blank]:
            cells = list(state)
            cells[blank], cells[j] = cells[j], cells[blank]
            nxt = "".join(cells)
            if nxt not in seen:
                seen.add(nxt)
                queue.append((nxt, moves + 1))
    return -1


@inputs_for(sliding_puzzle)
def sliding_puzzle_inputs() -> dict:
    cells = [1, 2, 3, 4, 5, 0]
    random.shuffle(cells)
    return {"board": [cells[:3], cells[3:]]}


@seed(
    """Colours the nodes of a small graph with at most k colours by backtracking, trying
    colours 0..k-1 for nodes 0..n-1 in order, so that adjacent nodes differ. Input: n (2 to
    8), the edge list and k (2 to 4). Output: the list of colours per node, or an empty list
    when no colouring exists."""
)
def graph_coloring(n: int, edges: list[list[int]], k: int) -> list[int]:
    adjacent: list[set] = [set() for _ in range(n)]
    for a, b in edges:
        adjacent[a].add(b)
        adjacent[b].add(a)
    colours = [-1] * n

    def assign(node: int) -> bool:
        if node == n:
            return True
        for colour in range(k):
            if all(colours[m] != colour for m in adjacent[node]):
                colours[node] = colour
                if assign(node + 1):
                    return True
        colours[node] = -1
        return False

    return colours if assign(0) else []


@inputs_for(graph_coloring)
def graph_coloring_inputs() -> dict:
    n = random.randint(2, 8)
    edges = []
    for _ in range(random.randint(1, 12)):
        a, b = random.sample(range(n), 2)
        if [a, b] not in edges and [b, a] not in edges:
            edges.append([a, b])
    return {"n": n, "edges": edges, "k": random.randint(2, 4)}


@seed(
    """Decides whether a directed graph has a cycle with a three-colour depth-first search
    and, if so, returns the first cycle found (visiting nodes in sorted order). Input: a
    dict mapping each node to its list of successors. Output: the cycle as a list of nodes
    starting and ending at the same node, or an empty list."""
)
def find_cycle(graph: dict) -> list:
    state: dict = {}
    stack: list = []

    def visit(node) -> list:
        state[node] = "grey"
        stack.append(node)
        for nxt in sorted(graph.get(node, [])):
            if state.get(nxt) == "grey":
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = "black"
        return []

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return []


@inputs_for(find_cycle)
def find_cycle_inputs() -> dict:
    nodes = list("pqrstu")[: random.randint(2, 6)]
    graph = {n: sorted(set(random.sample(nodes, random.randint(0, 2))) - {n}) for n in nodes}
    return {"graph": graph}


@seed(
    """Counts the distinct monotone lattice paths in a grid from the top-left to the
    bottom-right corner, moving only right or down and avoiding blocked cells, by depth-first
    enumeration. Input: a list of equal-length strings of "." and "#" (up to 5 x 5).
    Output: the number of paths."""
)
def lattice_paths(grid: list[str]) -> int:
    rows, cols = len(grid), len(grid[0])

    def count(r: int, c: int) -> int:
        if r >= rows or c >= cols or grid[r][c] == "#":
            return 0
        if (r, c) == (rows - 1, cols - 1):
            return 1
        return count(r + 1, c) + count(r, c + 1)

    return count(0, 0)


@inputs_for(lattice_paths)
def lattice_paths_inputs() -> dict:
    return {"grid": _random_grid(random.randint(1, 5), random.randint(1, 5), 0.2)}
