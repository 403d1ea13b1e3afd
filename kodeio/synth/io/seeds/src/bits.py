"""Bit manipulation: masks, shifts, parity, Gray codes."""

import random

from kodeio.synth.io.seeds.src._registry import inputs_for, seed

CATEGORY = "bit_manipulation"


@seed(
    """Counts the set bits of a non-negative integer with Kernighan's trick (n &= n - 1) and
    returns the count, the number of loop iterations and the binary representation. Input:
    n from 0 to 2^31. Output: a dict with "ones", "iterations" and "binary"."""
)
def popcount(n: int) -> dict:
    ones = 0
    m = n
    while m:
        m &= m - 1
        ones += 1
    return {"ones": ones, "iterations": ones, "binary": bin(n)[2:]}


@inputs_for(popcount)
def popcount_inputs() -> dict:
    return {"n": random.randint(0, 2**31)}


@seed(
    """Reverses the lowest `width` bits of an integer (bit 0 becomes bit width-1). Input: n
    and a width from 1 to 16 with n < 2^width. Output: the reversed value."""
)
def reverse_bits(n: int, width: int) -> int:
    out = 0
    for _ in range(width):
        out = (out << 1) | (n & 1)
        n >>= 1
    return out


@inputs_for(reverse_bits)
def reverse_bits_inputs() -> dict:
    width = random.randint(1, 16)
    return {"n": random.randrange(2**width), "width": width}


@seed(
    """Converts numbers to reflected binary Gray code and back, checking the round trip.
    Input: a list of up to 10 integers from 0 to 255. Output: a dict with "gray" (the codes)
    and "decoded" (the values recovered from the codes)."""
)
def gray_codes(values: list[int]) -> dict:
    def to_gray(x: int) -> int:
        return x ^ (x >> 1)

    def from_gray(g: int) -> int:
        x = 0
        while g:
            x ^= g
            g >>= 1
        return x

    codes = [to_gray(v) for v in values]
    return {"gray": codes, "decoded": [from_gray(g) for g in codes]}


@inputs_for(gray_codes)
def gray_codes_inputs() -> dict:
    return {"values": [random.randint(0, 255) for _ in range(random.randint(1, 10))]}


@seed(
    """Finds the single number that appears once in a list where every other number appears
    twice, by XOR-ing everything, and also returns the running XOR after each element.
    Input: such a list of up to 11 integers. Output: a dict with "single" and "running"."""
)
def xor_single(nums: list[int]) -> dict:
    acc = 0
    running = []
    for x in nums:
        acc ^= x
        running.append(acc)
    return {"single": acc, "running": running}


@inputs_for(xor_single)
def xor_single_inputs() -> dict:
    pairs = random.sample(range(1, 64), random.randint(0, 5))
    nums = pairs + pairs + [random.randint(64, 99)]
    random.shuffle(nums)
    return {"nums": nums}


@seed(
    """Applies a sequence of bit operations to a register of 8 bits: "set i", "clear i",
    "toggle i", "shl" and "shr" (shifts drop bits falling off the 8-bit register), then
    reports the final value. Input: the starting value (0 to 255) and a list of operation
    strings. Output: a dict with the final "value" and its 8-character "bits"."""
)
def bit_register(value: int, ops: list[str]) -> dict:
    for op in ops:
        parts = op.split()
        if parts[0] == "set":
            value |= 1 << int(parts[1])
        elif parts[0] == "clear":
            value &= ~(1 << int(parts[1]))
        elif parts[0] == "toggle":
            value ^= 1 << int(parts[1])
        elif parts[0] == "shl":
            value = (value << 1) & 0xFF
        elif parts[0] == "shr":
            value >>= 1
    return {"value": value, "bits": format(value, "08b")}


@inputs_for(bit_register)
def bit_register_inputs() -> dict:
    ops = []
    for _ in range(random.randint(1, 8)):
        kind = random.choice(["set", "clear", "toggle", "shl", "shr"])
        ops.append(kind if kind in ("shl", "shr") else f"{kind} {random.randint(0, 7)}")
    return {"value": random.randint(0, 255), "ops": ops}


@seed(
    """Enumerates all subsets of a small list using bitmasks 0..2^n - 1 (bit i selects item
    i) and returns the subsets whose sum is even, in mask order. Input: a list of 1 to 4
    integers. Output: the list of subsets (each a list)."""
)
def even_subsets(items: list[int]) -> list[list[int]]:
    out = []
    for mask in range(1 << len(items)):
        subset = [items[i] for i in range(len(items)) if mask >> i & 1]
        if sum(subset) % 2 == 0:
            out.append(subset)
    return out


@inputs_for(even_subsets)
def even_subsets_inputs() -> dict:
    return {"items": [random.randint(1, 9) for _ in range(random.randint(1, 4))]}


@seed(
    """Checks whether a number is a power of two with n & (n - 1), and otherwise gives the
    nearest powers of two below and above it. Input: n from 1 to 10^6. Output: a dict with
    "power" (a boolean), "below" and "above"."""
)
def power_of_two(n: int) -> dict:
    if n & (n - 1) == 0:
        return {"power": True, "below": n, "above": n}
    below = 1 << (n.bit_length() - 1)
    return {"power": False, "below": below, "above": below << 1}


@inputs_for(power_of_two)
def power_of_two_inputs() -> dict:
    if random.random() < 0.3:
        return {"n": 1 << random.randint(0, 19)}
    return {"n": random.randint(1, 10**6)}


@seed(
    """Computes the Hamming distance between pairs of integers (the number of differing
    bits) and the total over all pairs of a list. Input: a list of 2 to 6 integers from 0 to
    1023. Output: a dict with "pairwise" (distances for pairs i < j in order) and "total"."""
)
def hamming_pairs(nums: list[int]) -> dict:
    pairwise = []
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            pairwise.append(bin(nums[i] ^ nums[j]).count("1"))
    return {"pairwise": pairwise, "total": sum(pairwise)}


@inputs_for(hamming_pairs)
def hamming_pairs_inputs() -> dict:
    return {"nums": [random.randint(0, 1023) for _ in range(random.randint(2, 6))]}


@seed(
    """Packs an RGB colour into a 24-bit integer with shifts, then unpacks a second integer
    back into its red, green and blue channels and reports its hex code. Input: a list
    [r, g, b] of bytes and an integer code below 2^24. Output: a dict with "packed",
    "unpacked" ([r, g, b]) and "hex" ("#rrggbb" of the code)."""
)
def rgb_pack(rgb: list[int], code: int) -> dict:
    r, g, b = rgb
    packed = (r << 16) | (g << 8) | b
    unpacked = [(code >> 16) & 0xFF, (code >> 8) & 0xFF, code & 0xFF]
    return {"packed": packed, "unpacked": unpacked, "hex": f"#{code:06x}"}


@inputs_for(rgb_pack)
def rgb_pack_inputs() -> dict:
    return {"rgb": [random.randint(0, 255) for _ in range(3)], "code": random.randrange(2**24)}


@seed(
    """Computes the even-parity bit of each byte and a simple checksum: the XOR of all bytes
    and the sum of all bytes modulo 256. Input: a list of up to 10 bytes. Output: a dict
    with "parity" (one bit per byte), "xor" and "sum"."""
)
def byte_checks(data: list[int]) -> dict:
    parity = [bin(b).count("1") % 2 for b in data]
    xor = 0
    for b in data:
        xor ^= b
    return {"parity": parity, "xor": xor, "sum": sum(data) % 256}


@inputs_for(byte_checks)
def byte_checks_inputs() -> dict:
    return {"data": [random.randint(0, 255) for _ in range(random.randint(0, 10))]}


@seed(
    """Encodes a list of small flags into a bitmask of permissions (read = 4, write = 2,
    execute = 1 per user class, like Unix file modes) and renders it as "rwxr-x---" text and
    as an octal string. Input: three lists of permission letters for owner, group and
    others. Output: a dict with "octal" and "text"."""
)
def file_mode(owner: list[str], group: list[str], others: list[str]) -> dict:
    bits = {"r": 4, "w": 2, "x": 1}
    digits = []
    text = ""
    for perms in (owner, group, others):
        value = 0
        for p in perms:
            value |= bits[p]
        digits.append(str(value))
        text += "".join(ch if value & bits[ch] else "-" for ch in "rwx")
    return {"octal": "".join(digits), "text": text}


@inputs_for(file_mode)
def file_mode_inputs() -> dict:
    def pick() -> list:
        return [p for p in "rwx" if random.random() < 0.5]

    return {"owner": pick(), "group": pick(), "others": pick()}


@seed(
    """Finds the positions of the lowest and highest set bits and the number of trailing
    zeros of a positive integer using only bit tricks (n & -n isolates the lowest bit).
    Input: n from 1 to 2^40. Output: a dict with "lowest", "highest" and "trailing_zeros"."""
)
def bit_positions(n: int) -> dict:
    lowest_bit = n & -n
    lowest = lowest_bit.bit_length() - 1
    return {"lowest": lowest, "highest": n.bit_length() - 1, "trailing_zeros": lowest}


@inputs_for(bit_positions)
def bit_positions_inputs() -> dict:
    return {"n": random.randint(1, 2**40) << random.randint(0, 5)}


@seed(
    """Adds two non-negative integers without using + by looping on XOR (sum without carry)
    and AND shifted left (the carry), counting the loop rounds. Input: two integers from 0
    to 10^6. Output: a list [sum, rounds]."""
)
def add_without_plus(a: int, b: int) -> list[int]:
    rounds = 0
    while b:
        carry = (a & b) << 1
        a ^= b
        b = carry
        rounds += 1
    return [a, rounds]


@inputs_for(add_without_plus)
def add_without_plus_inputs() -> dict:
    return {"a": random.randint(0, 10**6), "b": random.randint(0, 10**6)}
