#!/usr/bin/python3
"""The offline analysis of an isokin session file, written the way a researcher would in
NumPy/SciPy: the speed reference of docs/performance.md (run by scripts/bench).

Same pipeline and defaults as isokin (docs/analysis.md): limb-weight moment from the rest before
the first movement, zero-phase Butterworth (order 2 run forward and backward, 20 Hz) on torque
and velocity, phases = runs of one velocity sign reaching 10 deg/s and covering 10 deg, per
phase peak torque, angle at peak, work (trapezoid over angle in rad), mean power; per movement
best peak, mean, coefficient of variation, total work, fatigue indices; per set H:Q; per
session bilateral deficits and conventional H:Q. Differences from isokin, on purpose (a
researcher's script): the whole set is filtered at once (isokin filters each phase with a
margin, so live and offline agree), the peak is the highest filtered sample (isokin fits a
parabola to the top of the curve), a phase's duration runs from sample to sample (isokin
interpolates the zero crossings), and there is no isokinetic window, clipping or gap check.

usage: isokin_reference.py SESSION.h5 [--repeat N] [--json]
"""
import argparse
import json
import sys
import time

import h5py
import numpy as np
from scipy.signal import butter, filtfilt

FILTER_ORDER = 2
CUTOFF_HZ = 20.0
VELOCITY_THRESHOLD = 10.0  # deg/s a movement must exceed
MINIMUM_RANGE = 10.0  # deg a movement must cover
REST_VELOCITY = 2.0  # deg/s: slower is rest
MINIMUM_REST_TIME = 0.2  # s of rest needed to estimate the limb weight
MINIMUM_MEAN_COS_SQUARED = 0.25  # rest too close to vertical below this


def read_session(path):
    with h5py.File(path, "r") as f:
        session = {
            "rate": float(f["device"].attrs["sample_rate"]),
            "body_mass": float(f["subject"].attrs["body_mass"]),
            "sets": [],
        }
        for group in f["sets"].values():
            a = group.attrs
            session["sets"].append({
                "index": int(a["index"]),
                "kind": str(a.get("kind", "test")),
                "side": str(a["side"]),
                "joint": str(a["joint"]),
                "mode": str(a["mode"]),
                "velocity": float(a["extension_velocity"]),
                "time": group["time"][:],
                "torque": group["torque"][:],
                "angle": group["angle"][:],
                "speed": group["velocity"][:],
            })
    session["sets"].sort(key=lambda s: s["index"])
    return session


def lever(angle_deg, joint):
    radians = np.deg2rad(angle_deg)
    return np.sin(radians) if joint == "trunk" else np.cos(radians)


def phases_from_velocity(velocity, angle):
    """(begin, end, sign) of every run of one velocity sign that is a real movement."""
    sign = np.sign(velocity)
    edges = np.flatnonzero(np.diff(sign)) + 1
    begins = np.r_[0, edges]
    ends = np.r_[edges, len(velocity)]
    fastest = np.maximum.reduceat(np.abs(velocity), begins)
    covered = np.abs(angle[ends - 1] - angle[begins])
    keep = (sign[begins] != 0) & (fastest > VELOCITY_THRESHOLD) & (covered >= MINIMUM_RANGE)
    return list(zip(begins[keep], ends[keep], sign[begins][keep]))


def limb_moment_from_rest(s, rest_end, rate):
    torque, angle, speed = s["torque"][:rest_end], s["angle"][:rest_end], s["speed"][:rest_end]
    rest = (np.abs(speed) < REST_VELOCITY) & np.isfinite(torque) & np.isfinite(angle)
    c = lever(angle[rest], s["joint"])
    n = int(rest.sum())
    if n == 0 or n < MINIMUM_REST_TIME * rate or np.mean(c * c) < MINIMUM_MEAN_COS_SQUARED:
        return 0.0
    return -np.sum(torque[rest] * c) / np.sum(c * c)


def fatigue(peaks, works):
    n = len(peaks)
    out = {}
    if n >= 3:
        third = n // 3
        out["work_fatigue"] = 100.0 * (1.0 - sum(works[n - third:]) / sum(works[:third]))
        slope, intercept = np.polyfit(np.arange(n), peaks, 1)
        out["peak_torque_slope"] = slope
        out["peak_torque_slope_percent"] = 100.0 * slope / intercept
    if n >= 6:
        out["thorstensson_index"] = 100.0 * (1.0 - sum(peaks[-3:]) / sum(peaks[:3]))
    if n >= 10:
        out["endurance_ratio"] = sum(works[-5:]) / sum(works[:5])
    return out


def analyse_set(s, rate, b, a):
    t, angle, speed = s["time"], s["angle"], s["speed"]
    phases = phases_from_velocity(speed, angle)
    rest_end = phases[0][0] if phases else len(t)
    moment = limb_moment_from_rest(s, rest_end, rate)
    torque = filtfilt(b, a, s["torque"] + moment * lever(angle, s["joint"]))
    filtfilt(b, a, speed)  # filtered velocity (isokin uses it for the isokinetic window)
    reps = {"extension": [], "flexion": []}
    for begin, end, sign in phases:
        lo, hi = max(begin - 1, 0), min(end + 1, len(t))
        movement = "extension" if sign < 0 else "flexion"
        extensors = torque[begin:end].mean() >= 0.0
        concentric = extensors == (movement == "extension")
        directed = (1.0 if extensors else -1.0) * torque[lo:hi]
        k = int(np.argmax(directed))
        work = -np.trapz(torque[lo:hi], np.deg2rad(angle[lo:hi])) * (1.0 if concentric else -1.0)
        duration = t[hi - 1] - t[lo]
        reps[movement].append({
            "peak_torque": directed[k],
            "angle_at_peak": angle[lo + k],
            "work": work,
            "mean_power": work / duration if duration > 0 else 0.0,
            "concentric": concentric,
            "extensors": extensors,
        })
    out = {"index": s["index"], "kind": s["kind"], "side": s["side"], "velocity": s["velocity"],
           "limb_moment": moment}
    for movement, rs in reps.items():
        if not rs:
            out[movement] = None
            continue
        peaks = np.array([r["peak_torque"] for r in rs])
        works = np.array([r["work"] for r in rs])
        best = int(np.argmax(peaks))
        out[movement] = {
            "repetitions": len(rs),
            "peak_torque": peaks[best],
            "angle_at_peak": rs[best]["angle_at_peak"],
            "concentric": rs[best]["concentric"],
            "extensors": rs[best]["extensors"],
            "mean_peak_torque": peaks.mean(),
            "coefficient_of_variation": 100.0 * peaks.std(ddof=1) / peaks.mean()
            if len(rs) > 1 else None,
            "total_work": works.sum(),
            "mean_power": np.mean([r["mean_power"] for r in rs]),
            "fatigue": fatigue(peaks, works),
        }
    ext, flex = out["extension"], out["flexion"]
    out["hq_ratio"] = (flex["peak_torque"] / ext["peak_torque"]
                       if ext and flex and ext["concentric"] and flex["concentric"] else None)
    return out


def analyse_session(session):
    rate = session["rate"]
    b, a = butter(FILTER_ORDER, CUTOFF_HZ / (rate / 2.0))
    sets = [analyse_set(s, rate, b, a) for s in session["sets"]]
    # Best peak per side, speed and movement over the test sets; then left against right.
    best = {}
    for s in sets:
        if s["kind"] != "test":
            continue
        for movement in ("extension", "flexion"):
            m = s[movement]
            if m:
                key = (s["velocity"], movement)
                side = best.setdefault(key, {})
                side[s["side"]] = max(side.get(s["side"], 0.0), m["peak_torque"])
    bilateral = []
    for (velocity, movement), sides in sorted(best.items()):
        if "left" in sides and "right" in sides:
            strong, weak = max(sides.values()), min(sides.values())
            bilateral.append({"velocity": velocity, "movement": movement,
                              "deficit_percent": 100.0 * (strong - weak) / strong})
    hq = []
    for (velocity, movement), sides in sorted(best.items()):
        if movement == "extension":
            flexion = best.get((velocity, "flexion"), {})
            for side, ext in sides.items():
                if side in flexion:
                    hq.append({"velocity": velocity, "side": side, "value": flexion[side] / ext})
    return {"sets": sets, "bilateral": bilateral, "conventional_hq": hq}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("session")
    parser.add_argument("--repeat", type=int, default=1,
                        help="time this many runs (the fastest, process CPU time)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    args = parser.parse_args()
    read_times, analysis_times = [], []
    for _ in range(args.repeat):
        start = time.process_time()
        session = read_session(args.session)
        read_times.append(time.process_time() - start)
        start = time.process_time()
        result = analyse_session(session)
        analysis_times.append(time.process_time() - start)
    samples = sum(len(s["time"]) for s in session["sets"])
    result["timing"] = {
        "samples": samples,
        "read_s": min(read_times),
        "analysis_s": min(analysis_times),
        "read_ns_per_sample": 1e9 * min(read_times) / samples,
        "analysis_ns_per_sample": 1e9 * min(analysis_times) / samples,
        "repeat": args.repeat,
    }
    if args.json:
        json.dump(result, sys.stdout, default=lambda x: x.item() if hasattr(x, "item") else str(x))
        print()
    else:
        t = result["timing"]
        print(f"{samples} samples: read {t['read_s']:.3f} s, analysis {t['analysis_s']:.3f} s "
              f"({t['analysis_ns_per_sample']:.1f} ns/sample)")
        for s in result["sets"]:
            e, f = s["extension"], s["flexion"]
            print(f"set {s['index']:3d} {s['side']:5} {s['velocity']:5.0f} deg/s: "
                  f"extension {e['peak_torque'] if e else float('nan'):7.1f} N·m, "
                  f"flexion {f['peak_torque'] if f else float('nan'):7.1f} N·m")


if __name__ == "__main__":
    main()
