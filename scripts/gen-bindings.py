#!/usr/bin/env python3
"""Writes chain/abi/<Contract>.json (ABI + creation and runtime bytecode) from a fresh `forge build`.

The Rust bindings (`chain/src/bindings.rs`) are `alloy::sol!` over these files, so they follow the
contracts exactly. With --check, nothing is written: the command fails when the committed files
differ from what the current sources compile to.
"""
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTRACTS = [
    "JejakRegistry",
    "JejakAttestations",
    "JejakReputationRoots",
    "JejakEvidenceLog",
    "BatchEventEmitter",
]
OPTIONAL = ["JejakGroth16Verifier", "JejakProofVerifier"]


def render(name: str) -> str | None:
    artifact = next((ROOT / "contracts/out").glob(f"**/{name}.json"), None)
    if artifact is None:
        return None
    data = json.loads(artifact.read_text())
    out = {
        "abi": data["abi"],
        "bytecode": {"object": data["bytecode"]["object"]},
        "deployedBytecode": {"object": data["deployedBytecode"]["object"]},
    }
    return json.dumps(out, indent=1, sort_keys=True) + "\n"


def main() -> int:
    check = "--check" in sys.argv[1:]
    forge = ROOT / "node_modules/.bin/forge"
    subprocess.run([str(forge), "build", "--force", "--quiet"], cwd=ROOT, check=True)
    stale = []
    for name in CONTRACTS + OPTIONAL:
        text = render(name)
        if text is None:
            if name in CONTRACTS:
                print(f"missing artifact for {name}", file=sys.stderr)
                return 1
            continue
        target = ROOT / "chain/abi" / f"{name}.json"
        if check:
            if not target.exists() or target.read_text() != text:
                stale.append(str(target.relative_to(ROOT)))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    if stale:
        print("generated bindings are stale; run `make gen`:", *stale, sep="\n  ", file=sys.stderr)
        return 1
    print("bindings " + ("up to date" if check else "written"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
