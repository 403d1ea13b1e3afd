"""Decision trees: nested if/else branches whose path the reasoner has to follow."""

import random

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "decision_tree"


@seed(
    """Classifies a number with a two-level decision tree: below 5 it is "A" when below 3
    and "B" otherwise; from 5 on it is "C" when below 8 and "D" otherwise. Input: an
    integer x from -5 to 15. Output: the leaf label, a one-letter string."""
)
def decision_tree(x: int) -> str:
    if x < 5:
        if x < 3:
            return "A"
        else:
            return "B"
    else:
        if x < 8:
            return "C"
        else:
            return "D"


@inputs_for(decision_tree)
def decision_tree_inputs() -> dict:
    return {"x": random.randint(-5, 15)}


@seed(
    """Decides a shipping fee from weight, distance and membership: members with orders
    over 50 ship free; otherwise a base fee depends on weight bands (up to 1 kg, up to 5 kg,
    heavier) and is doubled for distances over 500 km, then express adds 7. Input: weight
    in kg (0.1 to 20), distance in km, order total, member flag and express flag. Output:
    the fee as a number."""
)
def shipping_fee(weight: float, distance: int, total: float, member: bool, express: bool) -> float:
    if member and total > 50:
        return 0.0
    if weight <= 1:
        fee = 4.0
    elif weight <= 5:
        fee = 8.5
    else:
        fee = 8.5 + (weight - 5) * 1.5
    if distance > 500:
        fee *= 2
    if express:
        fee += 7
    return round(fee, 2)


@inputs_for(shipping_fee)
def shipping_fee_inputs() -> dict:
    return {
        "weight": round(random.uniform(0.1, 20), 1),
        "distance": random.randint(5, 1500),
        "total": round(random.uniform(5, 120), 2),
        "member": random.random() < 0.4,
        "express": random.random() < 0.3,
    }


@seed(
    """Classifies a triangle from its three side lengths: "invalid" when the sides break
    the triangle inequality, otherwise "equilateral", "isosceles" or "scalene", extended
    with "-right" when the sides satisfy Pythagoras. Input: three positive integers up to
    15. Output: a label string."""
)
def triangle_kind(a: int, b: int, c: int) -> str:
    x, y, z = sorted((a, b, c))
    if x + y <= z:
        return "invalid"
    if x == y == z:
        kind = "equilateral"
    elif x == y or y == z:
        kind = "isosceles"
    else:
        kind = "scalene"
    if x * x + y * y == z * z:
        kind += "-right"
    return kind


@inputs_for(triangle_kind)
def triangle_kind_inputs() -> dict:
    if random.random() < 0.2:
        k = random.randint(1, 3)
        return {"a": 3 * k, "b": 4 * k, "c": 5 * k}
    return {"a": random.randint(1, 15), "b": random.randint(1, 15), "c": random.randint(1, 15)}


@seed(
    """Computes an income tax with progressive brackets: 0% up to 10000, 10% on the part
    from 10000 to 40000, 20% from 40000 to 100000 and 35% above, minus a 500 credit per
    dependent (never below zero). Input: an integer income and the number of dependents.
    Output: a dict with the "tax" (rounded to cents) and the highest "bracket" reached."""
)
def income_tax(income: int, dependents: int) -> dict:
    bands = [(10000, 0.0), (40000, 0.10), (100000, 0.20), (None, 0.35)]
    tax = 0.0
    lower = 0
    bracket = 0.0
    for upper, rate in bands:
        if income <= lower:
            break
        top = income if upper is None else min(income, upper)
        tax += (top - lower) * rate
        bracket = rate
        if upper is None:
            break
        lower = upper
    tax = max(0.0, tax - 500 * dependents)
    return {"tax": round(tax, 2), "bracket": bracket}


@inputs_for(income_tax)
def income_tax_inputs() -> dict:
    return {"income": random.randint(0, 150000), "dependents": random.randint(0, 4)}


@seed(
    """Chooses an activity from the weather with a decision tree: rain leads to "museum"
    unless it is warm (over 22 degrees) which gives "swim-indoor"; dry weather with wind over
    30 km/h gives "kite" when warm enough (over 10) and "read" otherwise; calm dry weather
    gives "hike" between 8 and 25 degrees, "beach" above 25 and "ski" below 0, else "walk".
    Input: temperature, raining flag and wind speed. Output: the activity string."""
)
def weather_activity(temperature: int, raining: bool, wind: int) -> str:
    if raining:
        if temperature > 22:
            return "swim-indoor"
        return "museum"
    if wind > 30:
        if temperature > 10:
            return "kite"
        return "read"
    if temperature > 25:
        return "beach"
    if temperature >= 8:
        return "hike"
    if temperature < 0:
        return "ski"
    return "walk"


@inputs_for(weather_activity)
def weather_activity_inputs() -> dict:
    return {
        "temperature": random.randint(-10, 35),
        "raining": random.random() < 0.3,
        "wind": random.randint(0, 60),
    }


@seed(
    """Assigns a letter grade from a score with plus/minus modifiers: 90 and above is A,
    80-89 B, 70-79 C, 60-69 D, below 60 F; within A to D the last digit 7-9 adds "+" and 0-2
    adds "-", except that 100 is "A+". Late submissions lose one full letter (F stays F).
    Input: an integer score 0-100 and a late flag. Output: the grade string."""
)
def letter_grade(score: int, late: bool) -> str:
    letters = "ABCDF"
    if score >= 90:
        index = 0
    elif score >= 80:
        index = 1
    elif score >= 70:
        index = 2
    elif score >= 60:
        index = 3
    else:
        index = 4
    if late:
        index = min(index + 1, 4)
    letter = letters[index]
    if letter == "F":
        return "F"
    if score == 100:
        return "A+" if not late else letter + "+"
    digit = score % 10
    if digit >= 7:
        return letter + "+"
    if digit <= 2:
        return letter + "-"
    return letter


@inputs_for(letter_grade)
def letter_grade_inputs() -> dict:
    return {"score": random.randint(0, 100), "late": random.random() < 0.25}


@seed(
    """Routes a support ticket: security issues always go to "security"; otherwise billing
    tickets go to "billing-vip" for VIP customers and "billing" for the rest; technical
    tickets go to "tier2" when the priority is 3 or more or the customer waited over 48
    hours, else "tier1"; anything else goes to "general". Input: the topic, priority 1-5,
    hours waited, vip and security flags. Output: the queue name."""
)
def route_ticket(topic: str, priority: int, hours: int, vip: bool, security: bool) -> str:
    if security:
        return "security"
    if topic == "billing":
        return "billing-vip" if vip else "billing"
    if topic == "technical":
        if priority >= 3 or hours > 48:
            return "tier2"
        return "tier1"
    return "general"


@inputs_for(route_ticket)
def route_ticket_inputs() -> dict:
    return {
        "topic": random.choice(["billing", "technical", "account", "other"]),
        "priority": random.randint(1, 5),
        "hours": random.randint(0, 96),
        "vip": random.random() < 0.3,
        "security": random.random() < 0.15,
    }


@seed(
    """Plays one round of rock-paper-scissors-lizard-Spock between two players and explains
    the result. Input: two moves from "rock", "paper", "scissors", "lizard", "spock".
    Output: a list [winner, verb] where winner is 1, 2 or 0 for a tie and verb is the rule
    applied (for example "crushes"), or "tie"."""
)
def rpsls(first: str, second: str) -> list:
    rules = {
        ("scissors", "paper"): "cuts",
        ("paper", "rock"): "covers",
        ("rock", "lizard"): "crushes",
        ("lizard", "spock"): "poisons",
        ("spock", "scissors"): "smashes",
        ("scissors", "lizard"): "decapitates",
        ("lizard", "paper"): "eats",
        ("paper", "spock"): "disproves",
        ("spock", "rock"): "vaporizes",
        ("rock", "scissors"): "crushes",
    }
    if first == second:
        return [0, "tie"]
    if (first, second) in rules:
        return [1, rules[(first, second)]]
    return [2, rules[(second, first)]]


@inputs_for(rpsls)
def rpsls_inputs() -> dict:
    moves = ["rock", "paper", "scissors", "lizard", "spock"]
    return {"first": random.choice(moves), "second": random.choice(moves)}


@seed(
    """Determines whether a year is a leap year in the Gregorian calendar (divisible by 4,
    except centuries, except every 400 years) and which rule decided it. Input: a year
    from 1 to 3000. Output: a list [is_leap, rule] with rule one of "div400", "century",
    "div4" or "other"."""
)
def leap_year_rule(year: int) -> list:
    if year % 400 == 0:
        return [True, "div400"]
    if year % 100 == 0:
        return [False, "century"]
    if year % 4 == 0:
        return [True, "div4"]
    return [False, "other"]


@inputs_for(leap_year_rule)
def leap_year_rule_inputs() -> dict:
    if random.random() < 0.3:
        return {"year": random.randint(1, 30) * 100}
    return {"year": random.randint(1, 3000)}


@seed(
    """Approves or declines a loan with a rule tree on credit score, debt-to-income ratio
    and years employed: scores under 580 are declined; scores of 740 or more are approved at
    rate 4.5 unless the ratio exceeds 0.45; in between, a ratio over 0.36 declines, fewer
    than 2 years employed gives "review", otherwise approval at a rate that falls with the
    score. Input: score, monthly debt, monthly income and years employed. Output: a dict
    with "decision" and "rate" (0 when not approved)."""
)
def loan_decision(score: int, debt: int, income: int, years: int) -> dict:
    ratio = debt / income
    if score < 580:
        return {"decision": "declined", "rate": 0}
    if score >= 740:
        if ratio > 0.45:
            return {"decision": "declined", "rate": 0}
        return {"decision": "approved", "rate": 4.5}
    if ratio > 0.36:
        return {"decision": "declined", "rate": 0}
    if years < 2:
        return {"decision": "review", "rate": 0}
    rate = 9.0 if score < 650 else 6.75
    return {"decision": "approved", "rate": rate}


@inputs_for(loan_decision)
def loan_decision_inputs() -> dict:
    return {
        "score": random.randint(500, 850),
        "debt": random.randint(0, 4000),
        "income": random.randint(1500, 9000),
        "years": random.randint(0, 10),
    }


@seed(
    """Walks a binary decision tree stored as a nested dict, where inner nodes test
    "feature" <= "threshold" and go "left" when true, "right" otherwise, and leaves hold a
    "label". Input: the tree (depth up to 3) and a dict of feature values. Output: a dict
    with the reached "label" and the "path" of "L"/"R" moves."""
)
def walk_tree(tree: dict, sample: dict) -> dict:
    node = tree
    path = []
    while "label" not in node:
        if sample[node["feature"]] <= node["threshold"]:
            path.append("L")
            node = node["left"]
        else:
            path.append("R")
            node = node["right"]
    return {"label": node["label"], "path": "".join(path)}


def _random_tree(depth: int, labels: list) -> dict:
    if depth == 0 or random.random() < 0.25:
        return {"label": labels.pop()}
    return {
        "feature": random.choice(["x", "y", "z"]),
        "threshold": random.randint(0, 10),
        "left": _random_tree(depth - 1, labels),
        "right": _random_tree(depth - 1, labels),
    }


@inputs_for(walk_tree)
def walk_tree_inputs() -> dict:
    labels = list("HGFEDCBA")
    return {
        "tree": _random_tree(3, labels),
        "sample": {k: random.randint(0, 10) for k in "xyz"},
    }


@seed(
    """Computes a movie ticket price: the base is 12, children under 12 pay 6 and seniors of
    65 or more pay 7; matinees before 17:00 take 2 off (never below 5); 3D adds 3; Tuesday
    halves the price for adults only. Input: age, hour of the show (10-23), 3D flag and the
    weekday name. Output: the price as a number."""
)
def ticket_price(age: int, hour: int, is_3d: bool, day: str) -> float:
    if age < 12:
        price = 6.0
    elif age >= 65:
        price = 7.0
    else:
        price = 12.0
        if day == "Tue":
            price /= 2
    if hour < 17:
        price = max(5.0, price - 2)
    if is_3d:
        price += 3
    return price


@inputs_for(ticket_price)
def ticket_price_inputs() -> dict:
    return {
        "age": random.randint(3, 90),
        "hour": random.randint(10, 23),
        "is_3d": random.random() < 0.4,
        "day": random.choice(["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]),
    }


@seed(
    """Diagnoses why a device will not start using a troubleshooting tree: no power and no
    battery gives "charge battery"; no power with battery gives "check switch"; power but a
    blank screen gives "replace screen" if the fan spins, else "check board"; a screen with
    an error code below 100 gives "reinstall", 100 or more "contact support", and no error
    gives "ok". Input: flags power, battery, fan, screen and an error code (0 = none).
    Output: the advice string."""
)
def troubleshoot(power: bool, battery: bool, fan: bool, screen: bool, error: int) -> str:
    if not power:
        return "check switch" if battery else "charge battery"
    if not screen:
        return "replace screen" if fan else "check board"
    if error == 0:
        return "ok"
    return "reinstall" if error < 100 else "contact support"


@inputs_for(troubleshoot)
def troubleshoot_inputs() -> dict:
    return {
        "power": random.random() < 0.7,
        "battery": random.random() < 0.5,
        "fan": random.random() < 0.5,
        "screen": random.random() < 0.6,
        "error": random.choice([0, 0, random.randint(1, 99), random.randint(100, 999)]),
    }


@seed(
    """Classifies a point relative to an axis-aligned rectangle and a circle: "both", "rect",
    "circle" or "none" depending on which shapes contain it (boundaries count as inside).
    Input: the point (px, py), the rectangle corners x1, y1, x2, y2 with x1 <= x2 and
    y1 <= y2, and the circle centre (cx, cy) with radius r. Output: the label."""
)
def point_region(px: int, py: int, rect: list, circle: list) -> str:
    x1, y1, x2, y2 = rect
    cx, cy, r = circle
    in_rect = x1 <= px <= x2 and y1 <= py <= y2
    in_circle = (px - cx) ** 2 + (py - cy) ** 2 <= r * r
    if in_rect and in_circle:
        return "both"
    if in_rect:
        return "rect"
    if in_circle:
        return "circle"
    return "none"


@inputs_for(point_region)
def point_region_inputs() -> dict:
    x1, x2 = sorted(random.sample(range(-10, 11), 2))
    y1, y2 = sorted(random.sample(range(-10, 11), 2))
    return {
        "px": random.randint(-10, 10),
        "py": random.randint(-10, 10),
        "rect": [x1, y1, x2, y2],
        "circle": [random.randint(-5, 5), random.randint(-5, 5), random.randint(1, 8)],
    }
