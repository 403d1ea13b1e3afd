"""Simulation: step a small system forward and report its final state."""

import random
from collections import deque

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "simulation"


@seed(
    """Simulates a robot on a grid that starts at (0, 0) facing north and follows commands:
    "F" moves one step forward, "L" and "R" turn 90 degrees. Input: a command string of up to
    30 letters. Output: a dict with the final "position" [x, y], the "facing" direction
    letter (N, E, S, W) and the largest Manhattan distance from the origin reached."""
)
def robot_walk(commands: str) -> dict:
    dirs = "NESW"
    steps = {"N": (0, 1), "E": (1, 0), "S": (0, -1), "W": (-1, 0)}
    x = y = 0
    facing = 0
    farthest = 0
    for cmd in commands:
        if cmd == "L":
            facing = (facing - 1) % 4
        elif cmd == "R":
            facing = (facing + 1) % 4
        else:
            dx, dy = steps[dirs[facing]]
            x, y = x + dx, y + dy
            farthest = max(farthest, abs(x) + abs(y))
    return {"position": [x, y], "facing": dirs[facing], "farthest": farthest}


@inputs_for(robot_walk)
def robot_walk_inputs() -> dict:
    return {"commands": "".join(random.choice("FFFLR") for _ in range(random.randint(0, 30)))}


@seed(
    """Runs Conway's Game of Life on a small bounded board (cells outside count as dead) for
    a number of generations. Input: a list of equal-length strings of "." and "#" (up to
    6 x 6) and a generation count from 0 to 5. Output: the board after those generations, in
    the same format."""
)
def life_steps(board: list[str], generations: int) -> list[str]:
    rows, cols = len(board), len(board[0])
    cells = [[ch == "#" for ch in row] for row in board]
    for _ in range(generations):
        nxt = []
        for r in range(rows):
            row = []
            for c in range(cols):
                alive = sum(
                    cells[r + dr][c + dc]
                    for dr in (-1, 0, 1)
                    for dc in (-1, 0, 1)
                    if (dr or dc) and 0 <= r + dr < rows and 0 <= c + dc < cols
                )
                row.append(alive == 3 or (cells[r][c] and alive == 2))
            nxt.append(row)
        cells = nxt
    return ["".join("#" if v else "." for v in row) for row in cells]


@inputs_for(life_steps)
def life_steps_inputs() -> dict:
    rows, cols = random.randint(3, 6), random.randint(3, 6)
    board = ["".join(random.choice("..#") for _ in range(cols)) for _ in range(rows)]
    return {"board": board, "generations": random.randint(0, 5)}


@seed(
    """Simulates a bank account through a list of transactions: deposits always succeed,
    withdrawals are refused when they would make the balance negative (unless the overdraft
    limit allows it), and a monthly fee of 2 is charged at each "month" event when the
    balance is under 100. Input: an opening balance, an overdraft limit and a list of
    [kind, amount] events. Output: a dict with the final "balance" and "refused" count."""
)
def bank_account(opening: int, overdraft: int, events: list[list]) -> dict:
    balance = opening
    refused = 0
    for kind, amount in events:
        if kind == "deposit":
            balance += amount
        elif kind == "withdraw":
            if balance - amount < -overdraft:
                refused += 1
            else:
                balance -= amount
        elif kind == "month" and balance < 100:
            balance -= 2
    return {"balance": balance, "refused": refused}


@inputs_for(bank_account)
def bank_account_inputs() -> dict:
    kinds = ["deposit", "withdraw", "withdraw", "month"]
    events = [[random.choice(kinds), random.randint(1, 80)] for _ in range(random.randint(1, 10))]
    return {
        "opening": random.randint(0, 150),
        "overdraft": random.choice([0, 0, 50]),
        "events": events,
    }


@seed(
    """Simulates round-robin CPU scheduling with a time quantum: processes run in queue order
    for at most the quantum, unfinished ones rejoin the back of the queue. Input: a list of
    [name, burst_time] pairs and the quantum (1 to 4). Output: a dict mapping each process
    name to its completion time."""
)
def round_robin(processes: list[list], quantum: int) -> dict:
    queue = deque((name, burst) for name, burst in processes)
    clock = 0
    done = {}
    while queue:
        name, left = queue.popleft()
        run = min(quantum, left)
        clock += run
        if left > run:
            queue.append((name, left - run))
        else:
            done[name] = clock
    return done


@inputs_for(round_robin)
def round_robin_inputs() -> dict:
    names = random.sample(["P1", "P2", "P3", "P4", "P5"], random.randint(1, 5))
    return {
        "processes": [[n, random.randint(1, 9)] for n in names],
        "quantum": random.randint(1, 4),
    }


@seed(
    """Simulates a vending machine that accepts coins of 5, 10 and 25 and sells items at
    given prices: each "buy" succeeds when enough credit was inserted, returning change with
    the fewest coins (greedy 25/10/5) and resetting the credit; "refund" returns the credit.
    Input: a price table and a list of actions ["coin", v], ["buy", item] or ["refund"].
    Output: the list of event strings the machine prints."""
)
def vending_machine(prices: dict, actions: list[list]) -> list[str]:
    credit = 0
    log = []
    for action in actions:
        if action[0] == "coin":
            credit += action[1]
        elif action[0] == "refund":
            log.append(f"refund {credit}")
            credit = 0
        else:
            item = action[1]
            if credit < prices[item]:
                log.append(f"need {prices[item] - credit} for {item}")
                continue
            change = credit - prices[item]
            coins = []
            for coin in (25, 10, 5):
                while change >= coin:
                    coins.append(coin)
                    change -= coin
            log.append(f"sold {item} change {coins}")
            credit = 0
    return log


@inputs_for(vending_machine)
def vending_machine_inputs() -> dict:
    prices = {"cola": 65, "chips": 40, "gum": 15}
    actions: list = []
    for _ in range(random.randint(1, 8)):
        roll = random.random()
        if roll < 0.6:
            actions.append(["coin", random.choice([5, 10, 25])])
        elif roll < 0.9:
            actions.append(["buy", random.choice(list(prices))])
        else:
            actions.append(["refund"])
    return {"prices": prices, "actions": actions}


@seed(
    """Runs an elevator that serves floor requests in order: it moves one floor per second,
    spends 2 seconds at each requested floor, and skips requests for the floor it is on.
    Input: the starting floor and a list of up to 8 requested floors. Output: a dict with
    total "seconds", floors "travelled" and the list of "stops"."""
)
def elevator(start: int, requests: list[int]) -> dict:
    floor = start
    seconds = travelled = 0
    stops = []
    for target in requests:
        if target == floor:
            continue
        distance = abs(target - floor)
        seconds += distance + 2
        travelled += distance
        floor = target
        stops.append(target)
    return {"seconds": seconds, "travelled": travelled, "stops": stops}


@inputs_for(elevator)
def elevator_inputs() -> dict:
    return {
        "start": random.randint(0, 10),
        "requests": [random.randint(0, 10) for _ in range(random.randint(0, 8))],
    }


@seed(
    """Simulates a queue at a single counter: customers arrive at given minutes and each
    needs a service time; service is first come first served. Input: a list of [arrival,
    service] pairs sorted by arrival. Output: a dict with the list of "waits" and the
    "finish" time of the last customer."""
)
def counter_queue(customers: list[list[int]]) -> dict:
    free_at = 0
    waits = []
    for arrival, service in customers:
        start = max(arrival, free_at)
        waits.append(start - arrival)
        free_at = start + service
    return {"waits": waits, "finish": free_at}


@inputs_for(counter_queue)
def counter_queue_inputs() -> dict:
    t = 0
    customers = []
    for _ in range(random.randint(1, 8)):
        t += random.randint(0, 5)
        customers.append([t, random.randint(1, 6)])
    return {"customers": customers}


@seed(
    """Simulates a traffic light cycling green (g seconds), yellow (3 seconds) and red
    (r seconds), starting green at t = 0, and reports the colour at each query time and how
    long until it changes. Input: g and r (5 to 40) and up to 6 query times. Output: a list
    of [colour, seconds_until_change] pairs."""
)
def traffic_light(g: int, r: int, times: list[int]) -> list[list]:
    cycle = g + 3 + r
    out = []
    for t in times:
        phase = t % cycle
        if phase < g:
            out.append(["green", g - phase])
        elif phase < g + 3:
            out.append(["yellow", g + 3 - phase])
        else:
            out.append(["red", cycle - phase])
    return out


@inputs_for(traffic_light)
def traffic_light_inputs() -> dict:
    return {
        "g": random.randint(5, 40),
        "r": random.randint(5, 40),
        "times": [random.randint(0, 200) for _ in range(random.randint(1, 6))],
    }


@seed(
    """Simulates the Josephus game: n people stand in a circle numbered 1..n and every k-th
    person is removed until one remains. Input: n (1 to 15) and k (1 to 6). Output: a dict
    with the "order" of removal and the "survivor"."""
)
def josephus(n: int, k: int) -> dict:
    circle = list(range(1, n + 1))
    order = []
    i = 0
    while len(circle) > 1:
        i = (i + k - 1) % len(circle)
        order.append(circle.pop(i))
    return {"order": order, "survivor": circle[0]}


@inputs_for(josephus)
def josephus_inputs() -> dict:
    return {"n": random.randint(1, 15), "k": random.randint(1, 6)}


@seed(
    """Simulates a one-dimensional cellular automaton with an elementary rule number
    (Wolfram code) on a row of cells with fixed dead borders. Input: the rule (0 to 255), an
    initial row of "0"/"1" characters (5 to 15 long) and a step count (1 to 6). Output: the
    list of rows, the initial one included."""
)
def elementary_automaton(rule: int, row: str, steps: int) -> list[str]:
    history = [row]
    for _ in range(steps):
        padded = "0" + row + "0"
        row = "".join(
            str(rule >> int(padded[i - 1 : i + 2], 2) & 1) for i in range(1, len(padded) - 1)
        )
        history.append(row)
    return history


@inputs_for(elementary_automaton)
def elementary_automaton_inputs() -> dict:
    length = random.randint(5, 15)
    return {
        "rule": random.choice([30, 90, 110, 184, random.randint(0, 255)]),
        "row": "".join(random.choice("01") for _ in range(length)),
        "steps": random.randint(1, 6),
    }


@seed(
    """Simulates an inventory over days: each day starts by receiving any order placed
    lead_time days earlier, then meets the demand (lost sales when short), then orders
    reorder_qty units if the stock is at or below the reorder point and no order is pending.
    Input: starting stock, reorder point, reorder quantity, lead time (1 to 3) and daily
    demands. Output: a dict with final "stock", "lost" sales and number of "orders"."""
)
def inventory(
    stock: int, reorder_point: int, reorder_qty: int, lead_time: int, demands: list[int]
) -> dict:
    pending: dict[int, int] = {}
    lost = orders = 0
    for day, demand in enumerate(demands):
        stock += pending.pop(day, 0)
        sold = min(stock, demand)
        lost += demand - sold
        stock -= sold
        if stock <= reorder_point and not pending:
            pending[day + lead_time] = reorder_qty
            orders += 1
    return {"stock": stock, "lost": lost, "orders": orders}


@inputs_for(inventory)
def inventory_inputs() -> dict:
    return {
        "stock": random.randint(0, 30),
        "reorder_point": random.randint(2, 10),
        "reorder_qty": random.randint(5, 25),
        "lead_time": random.randint(1, 3),
        "demands": [random.randint(0, 9) for _ in range(random.randint(1, 12))],
    }


@seed(
    """Runs a simple predator-prey population model in whole numbers for a few seasons:
    rabbits grow by 10% and lose 2 per fox, foxes gain 1 per 10 rabbits and lose 20% (rounded
    down), and neither goes below zero. Input: initial rabbits, foxes and seasons (1 to 8).
    Output: the list of [rabbits, foxes] after each season."""
)
def predator_prey(rabbits: int, foxes: int, seasons: int) -> list[list[int]]:
    history = []
    for _ in range(seasons):
        new_rabbits = max(0, rabbits + rabbits // 10 - 2 * foxes)
        new_foxes = max(0, foxes + rabbits // 10 - foxes // 5)
        rabbits, foxes = new_rabbits, new_foxes
        history.append([rabbits, foxes])
    return history


@inputs_for(predator_prey)
def predator_prey_inputs() -> dict:
    return {
        "rabbits": random.randint(20, 200),
        "foxes": random.randint(1, 20),
        "seasons": random.randint(1, 8),
    }


@seed(
    """Simulates dropping balls into a row of bins with walls: each ball starts at a column
    of a small pegboard and at every row is deflected left on "/" and right on "\\", passing
    straight through "."; it falls out of the board when it leaves the sides. Input: the
    board rows and a list of starting columns. Output: the list of final columns (-1 when
    the ball fell out)."""
)
def pegboard(board: list[str], drops: list[int]) -> list[int]:
    width = len(board[0])
    results = []
    for col in drops:
        for row in board:
            if row[col] == "/":
                col -= 1
            elif row[col] == "\\":
                col += 1
            if not 0 <= col < width:
                col = -1
                break
        results.append(col)
    return results


@inputs_for(pegboard)
def pegboard_inputs() -> dict:
    width = random.randint(3, 7)
    board = [
        "".join(random.choice("./\\") for _ in range(width)) for _ in range(random.randint(1, 5))
    ]
    return {"board": board, "drops": [random.randrange(width) for _ in range(random.randint(1, 5))]}
