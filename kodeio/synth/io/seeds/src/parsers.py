"""Small parsers and evaluators: tokens, stacks, grammars, tiny machines."""

import random

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "parser"


def _random_expr(depth: int) -> str:
    if depth == 0 or random.random() < 0.3:
        return str(random.randint(1, 9))
    op = random.choice("+-*")
    left, right = _random_expr(depth - 1), _random_expr(depth - 1)
    if random.random() < 0.4:
        return f"({left} {op} {right})"
    return f"{left} {op} {right}"


@seed(
    """Evaluates an integer arithmetic expression with +, -, *, parentheses and the usual
    precedence using a recursive-descent parser (expr -> term (+|- term)*, term -> factor
    (* factor)*, factor -> number | ( expr )). Input: the expression string. Output: its
    integer value."""
)
def evaluate_expression(expr: str) -> int:
    tokens = (
        expr.replace("(", " ( ")
        .replace(")", " ) ")
        .replace("+", " + ")
        .replace("-", " - ")
        .replace("*", " * ")
        .split()
    )
    pos = 0

    def peek() -> str:
        return tokens[pos] if pos < len(tokens) else ""

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def factor() -> int:
        if peek() == "(":
            take()
            value = parse_sum()
            take()
            return value
        return int(take())

    def term() -> int:
        value = factor()
        while peek() == "*":
            take()
            value *= factor()
        return value

    def parse_sum() -> int:
        value = term()
        while peek() in ("+", "-"):
            op = take()
            value = value + term() if op == "+" else value - term()
        return value

    return parse_sum()


@inputs_for(evaluate_expression)
def evaluate_expression_inputs() -> dict:
    return {"expr": _random_expr(3)}


@seed(
    """Evaluates an expression in reverse Polish notation with a stack, supporting + - * and
    integer division "/" that truncates toward zero, and records the stack depth after each
    token. Input: a list of tokens. Output: a dict with "value" and "depths"."""
)
def eval_rpn(tokens: list[str]) -> dict:
    stack: list[int] = []
    depths = []
    for tok in tokens:
        if tok in "+-*/" and len(tok) == 1:
            b, a = stack.pop(), stack.pop()
            if tok == "+":
                stack.append(a + b)
            elif tok == "-":
                stack.append(a - b)
            elif tok == "*":
                stack.append(a * b)
            else:
                stack.append(int(a / b))
        else:
            stack.append(int(tok))
        depths.append(len(stack))
    return {"value": stack[-1], "depths": depths}


@inputs_for(eval_rpn)
def eval_rpn_inputs() -> dict:
    tokens = [str(random.randint(1, 9))]
    depth = 1
    for _ in range(random.randint(1, 6)):
        if depth >= 2 and random.random() < 0.5:
            tokens.append(random.choice("+-*/"))
            depth -= 1
        else:
            tokens.append(str(random.randint(1, 9)))
            depth += 1
    while depth > 1:
        tokens.append(random.choice("+-*"))
        depth -= 1
    return {"tokens": tokens}


@seed(
    """Checks whether the brackets (), [] and {} in a string are balanced and, if not,
    reports the index of the first offending character (or the length of the string when
    some bracket is left open). Input: a string of up to 20 bracket and letter characters.
    Output: a dict with "balanced" and "error_at" (-1 when balanced)."""
)
def check_brackets(text: str) -> dict:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack = []
    for i, ch in enumerate(text):
        if ch in "([{":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack[-1] != pairs[ch]:
                return {"balanced": False, "error_at": i}
            stack.pop()
    if stack:
        return {"balanced": False, "error_at": len(text)}
    return {"balanced": True, "error_at": -1}


@inputs_for(check_brackets)
def check_brackets_inputs() -> dict:
    return {"text": "".join(random.choice("(()[]{}a") for _ in range(random.randint(0, 20)))}


@seed(
    """Parses a query string like "a=1&b=x&a=3" into a dict where repeated keys collect
    their values in a list and values that look like integers become integers; a key
    without "=" gets the value true. Input: the query string. Output: the parsed dict."""
)
def parse_query(query: str) -> dict:
    out: dict = {}
    for part in query.split("&"):
        if not part:
            continue
        if "=" in part:
            key, raw = part.split("=", 1)
            value = int(raw) if raw.lstrip("-").isdigit() else raw
        else:
            key, value = part, True
        if key in out:
            if not isinstance(out[key], list):
                out[key] = [out[key]]
            out[key].append(value)
        else:
            out[key] = value
    return out


@inputs_for(parse_query)
def parse_query_inputs() -> dict:
    parts = []
    for _ in range(random.randint(1, 6)):
        key = random.choice("abcq")
        roll = random.random()
        if roll < 0.4:
            parts.append(f"{key}={random.randint(-5, 99)}")
        elif roll < 0.8:
            parts.append(f"{key}={random.choice(['x', 'on', 'kim'])}")
        else:
            parts.append(key)
    return {"query": "&".join(parts)}


@seed(
    """Runs a tiny assembly language on registers a and b (starting at 0): "inc r", "dec r",
    "set r n", "add r s" (r += s) and "jnz r k" (jump k instructions when r is not zero),
    stopping after the last instruction or 200 steps. Input: a list of instructions.
    Output: a dict with the final registers and the number of "steps" executed."""
)
def run_program(program: list[str]) -> dict:
    regs = {"a": 0, "b": 0}
    pc = steps = 0
    while 0 <= pc < len(program) and steps < 200:
        op, *args = program[pc].split()
        steps += 1
        if op == "inc":
            regs[args[0]] += 1
        elif op == "dec":
            regs[args[0]] -= 1
        elif op == "set":
            regs[args[0]] = int(args[1])
        elif op == "add":
            regs[args[0]] += regs[args[1]]
        elif op == "jnz" and regs[args[0]] != 0:
            pc += int(args[1])
            continue
        pc += 1
    return {"a": regs["a"], "b": regs["b"], "steps": steps}


@inputs_for(run_program)
def run_program_inputs() -> dict:
    program = [f"set a {random.randint(1, 5)}", f"set b {random.randint(0, 3)}"]
    body = []
    for _ in range(random.randint(1, 3)):
        body.append(random.choice(["inc b", "add b a", "inc b", "dec b"]))
    program += body + ["dec a", f"jnz a -{len(body) + 1}"]
    return {"program": program}


@seed(
    """Tokenizes a line of simple source code into (kind, text) tokens: identifiers, integer
    numbers, operators from "+-*/=<>!" (with two-character "==", "!=", "<=", ">="),
    parentheses and commas; spaces are skipped and anything else is an "error" token.
    Input: a short code line. Output: a list of [kind, text] pairs (the first 20
    tokens at most)."""
)
def tokenize(line: str) -> list[list[str]]:
    tokens = []
    i = 0
    while i < len(line):
        ch = line[i]
        if ch == " ":
            i += 1
        elif ch.isalpha() or ch == "_":
            j = i
            while j < len(line) and (line[j].isalnum() or line[j] == "_"):
                j += 1
            tokens.append(["ident", line[i:j]])
            i = j
        elif ch.isdigit():
            j = i
            while j < len(line) and line[j].isdigit():
                j += 1
            tokens.append(["number", line[i:j]])
            i = j
        elif line[i : i + 2] in ("==", "!=", "<=", ">="):
            tokens.append(["op", line[i : i + 2]])
            i += 2
        elif ch in "+-*/=<>!":
            tokens.append(["op", ch])
            i += 1
        elif ch in "(),":
            tokens.append(["punct", ch])
            i += 1
        else:
            tokens.append(["error", ch])
            i += 1
    return tokens[:20]


@inputs_for(tokenize)
def tokenize_inputs() -> dict:
    pieces = ["x", "count", "42", "7", "==", "<=", "+", "(", ")", ",", "f", "y_1", "#", "!=", "*"]
    return {"line": " ".join(random.choice(pieces) for _ in range(random.randint(1, 10)))}


@seed(
    """Parses a CSV line that may contain double-quoted fields (commas inside quotes do not
    split, and "" inside quotes is an escaped quote) with a small state machine. Input: the
    line. Output: the list of field strings."""
)
def parse_csv_line(line: str) -> list[str]:
    fields = []
    current = ""
    quoted = False
    i = 0
    while i < len(line):
        ch = line[i]
        if quoted:
            if ch == '"' and line[i + 1 : i + 2] == '"':
                current += '"'
                i += 1
            elif ch == '"':
                quoted = False
            else:
                current += ch
        elif ch == '"':
            quoted = True
        elif ch == ",":
            fields.append(current)
            current = ""
        else:
            current += ch
        i += 1
    fields.append(current)
    return fields


@inputs_for(parse_csv_line)
def parse_csv_line_inputs() -> dict:
    options = ["kim", "42", '"a,b"', '"say ""hi"""', "", "seoul", '"x"']
    return {"line": ",".join(random.choice(options) for _ in range(random.randint(1, 6)))}


@seed(
    """Evaluates a boolean formula over named variables with the operators "and", "or",
    "not" and parentheses (not binds tightest, then and, then or) with a recursive-descent
    parser. Input: the formula as space-separated tokens and a dict of variable values.
    Output: the truth value."""
)
def eval_boolean(formula: str, env: dict) -> bool:
    tokens = formula.replace("(", " ( ").replace(")", " ) ").split()
    pos = 0

    def peek() -> str:
        return tokens[pos] if pos < len(tokens) else ""

    def take() -> str:
        nonlocal pos
        pos += 1
        return tokens[pos - 1]

    def atom() -> bool:
        tok = take()
        if tok == "not":
            return not atom()
        if tok == "(":
            value = disjunction()
            take()
            return value
        return bool(env[tok])

    def conjunction() -> bool:
        value = atom()
        while peek() == "and":
            take()
            right = atom()
            value = value and right
        return value

    def disjunction() -> bool:
        value = conjunction()
        while peek() == "or":
            take()
            right = conjunction()
            value = value or right
        return value

    return disjunction()


def _random_formula(depth: int) -> str:
    if depth == 0 or random.random() < 0.3:
        var = random.choice("pqr")
        return f"not {var}" if random.random() < 0.3 else var
    op = random.choice(["and", "or"])
    text = f"{_random_formula(depth - 1)} {op} {_random_formula(depth - 1)}"
    return f"( {text} )" if random.random() < 0.5 else text


@inputs_for(eval_boolean)
def eval_boolean_inputs() -> dict:
    return {
        "formula": _random_formula(3),
        "env": {v: random.random() < 0.5 for v in "pqr"},
    }


@seed(
    """Decodes a compressed string where k[text] means text repeated k times, with nesting
    allowed (for example "3[a2[c]]" becomes "accaccacc"), using a stack of (count, prefix)
    frames. Input: an encoded string whose decoding is at most 100 characters. Output: the
    decoded string."""
)
def decode_repeats(encoded: str) -> str:
    stack: list = []
    current = ""
    count = 0
    for ch in encoded:
        if ch.isdigit():
            count = count * 10 + int(ch)
        elif ch == "[":
            stack.append((count, current))
            current, count = "", 0
        elif ch == "]":
            k, prefix = stack.pop()
            current = prefix + current * k
        else:
            current += ch
    return current


@inputs_for(decode_repeats)
def decode_repeats_inputs() -> dict:
    inner = "".join(random.choice("ab") for _ in range(random.randint(1, 2)))
    if random.random() < 0.5:
        inner = f"{random.randint(2, 3)}[{inner}]" + random.choice(["", "c"])
    return {
        "encoded": random.choice(["", "x"])
        + f"{random.randint(1, 4)}[{inner}]"
        + random.choice(["", "z"])
    }


@seed(
    """Parses a duration string made of number-unit parts such as "1h30m15s" or "2d4h"
    (units d, h, m, s) into total seconds, rejecting unknown units or a trailing number.
    Input: the duration string. Output: the number of seconds, or -1 when the string is
    malformed."""
)
def parse_duration(text: str) -> int:
    units = {"d": 86400, "h": 3600, "m": 60, "s": 1}
    total = 0
    number = ""
    for ch in text:
        if ch.isdigit():
            number += ch
        elif ch in units and number:
            total += int(number) * units[ch]
            number = ""
        else:
            return -1
    return -1 if number or not text else total


@inputs_for(parse_duration)
def parse_duration_inputs() -> dict:
    parts = [f"{random.randint(1, 59)}{u}" for u in random.sample("dhms", random.randint(1, 4))]
    text = "".join(parts)
    if random.random() < 0.2:
        text += random.choice(["7", "x", "3w"])
    return {"text": text}


@seed(
    """Converts an infix expression over single-letter variables with + - * / and
    parentheses into postfix notation with the shunting-yard algorithm (left-associative
    operators, * and / binding tighter). Input: the expression without spaces. Output: the
    postfix string."""
)
def to_postfix(expr: str) -> str:
    precedence = {"+": 1, "-": 1, "*": 2, "/": 2}
    out = []
    ops: list[str] = []
    for ch in expr:
        if ch.isalpha():
            out.append(ch)
        elif ch == "(":
            ops.append(ch)
        elif ch == ")":
            while ops[-1] != "(":
                out.append(ops.pop())
            ops.pop()
        else:
            while ops and ops[-1] != "(" and precedence[ops[-1]] >= precedence[ch]:
                out.append(ops.pop())
            ops.append(ch)
    while ops:
        out.append(ops.pop())
    return "".join(out)


def _random_infix(depth: int) -> str:
    if depth == 0 or random.random() < 0.3:
        return random.choice("abcd")
    text = _random_infix(depth - 1) + random.choice("+-*/") + _random_infix(depth - 1)
    return f"({text})" if random.random() < 0.4 else text


@inputs_for(to_postfix)
def to_postfix_inputs() -> dict:
    return {"expr": _random_infix(3)}


@seed(
    """Parses a simple INI-style config text with "[section]" headers and "key = value"
    lines (comments start with "#" or ";", blank lines are ignored, keys before any section
    go to "default"). Input: the text as a list of lines. Output: a dict of sections, each a
    dict of keys to string values."""
)
def parse_ini(lines: list[str]) -> dict:
    data: dict = {}
    section = "default"
    for raw in lines:
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
            data.setdefault(section, {})
            continue
        if "=" in line:
            key, value = line.split("=", 1)
            data.setdefault(section, {})[key.strip()] = value.strip()
    return data


@inputs_for(parse_ini)
def parse_ini_inputs() -> dict:
    lines = []
    for _ in range(random.randint(1, 8)):
        roll = random.random()
        if roll < 0.2:
            lines.append(f"[{random.choice(['db', 'web', 'log'])}]")
        elif roll < 0.3:
            lines.append(random.choice(["# note", "; old", ""]))
        else:
            lines.append(
                f"{random.choice(['host', 'port', 'level', 'user'])} = {random.randint(1, 9000)}"
            )
    return {"lines": lines}


@seed(
    """Validates and normalizes a dotted IPv4 address: four decimal parts 0-255 without
    leading zeros (except "0" itself). Input: a candidate string. Output: a dict with "valid"
    and, when valid, the "class" by first octet (A below 128, B below 192, C below 224,
    otherwise D/E) and "private" (10.x, 172.16-31.x or 192.168.x)."""
)
def ipv4_info(address: str) -> dict:
    parts = address.split(".")
    if len(parts) != 4 or any(
        not p.isdigit() or (len(p) > 1 and p[0] == "0") or int(p) > 255 for p in parts
    ):
        return {"valid": False}
    a, b = int(parts[0]), int(parts[1])
    if a < 128:
        kind = "A"
    elif a < 192:
        kind = "B"
    elif a < 224:
        kind = "C"
    else:
        kind = "D/E"
    private = a == 10 or (a == 172 and 16 <= b <= 31) or (a == 192 and b == 168)
    return {"valid": True, "class": kind, "private": private}


@inputs_for(ipv4_info)
def ipv4_info_inputs() -> dict:
    parts = [str(random.choice([10, 172, 192, 8, 224, random.randint(0, 300)]))]
    parts += [
        str(random.choice([16, 168, 0, random.randint(0, 300)]))
        for _ in range(random.randint(2, 4))
    ]
    if random.random() < 0.1:
        parts[-1] = "0" + parts[-1]
    return {"address": ".".join(parts)}


@seed(
    """Evaluates a Lisp-like prefix expression with integer literals and the operators
    "add", "mul", "sub" and "max" over any number of arguments, e.g.
    "(add 1 (mul 2 3) 4)". Input: the expression string. Output: the integer value."""
)
def eval_prefix(expr: str) -> int:
    tokens = expr.replace("(", " ( ").replace(")", " ) ").split()
    pos = 0

    def parse() -> int:
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok != "(":
            return int(tok)
        op = tokens[pos]
        pos += 1
        args = []
        while tokens[pos] != ")":
            args.append(parse())
        pos += 1
        if op == "add":
            return sum(args)
        if op == "sub":
            return args[0] - sum(args[1:])
        if op == "max":
            return max(args)
        result = 1
        for a in args:
            result *= a
        return result

    return parse()


def _random_prefix(depth: int) -> str:
    if depth == 0 or random.random() < 0.35:
        return str(random.randint(0, 9))
    op = random.choice(["add", "mul", "sub", "max"])
    args = " ".join(_random_prefix(depth - 1) for _ in range(random.randint(1, 3)))
    return f"({op} {args})"


@inputs_for(eval_prefix)
def eval_prefix_inputs() -> dict:
    return {"expr": _random_prefix(3)}
