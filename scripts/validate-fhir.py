#!/usr/bin/env python3
"""Validates FHIR R4 (4.0.1) resources with fhir.resources 6.1.0 (PyPI).

Usage: validate-fhir.py FILE...  (each file one JSON resource, or JSON lines of resources)
Prints `ok <resourceType>` per valid resource; exits 1 with the validator's errors otherwise.
Besides the models' checks (required elements, cardinality, data types), checks the codes of
the bindings Hushpay's resources use, which the models leave as plain strings: `status`
(FinancialResourceStatusCodes), `outcome` (RemittanceOutcome), and the codings of
`paymentStatus` and `detail.type`. Run with the interpreter scripts/setup.sh installs:
~/.cache/hushpay/tools/fhir-resources-6.1.0/bin/python.
"""
import json
import sys

import fhir.resources
from fhir.resources import construct_fhir_element

FHIR_VERSION = "4.0.1"
STATUS = {"active", "cancelled", "draft", "entered-in-error"}
OUTCOME = {"queued", "complete", "error", "partial"}
PAYMENT_STATUS = ("http://terminology.hl7.org/CodeSystem/paymentstatus", {"paid", "cleared"})
PAYMENT_TYPE = ("http://terminology.hl7.org/CodeSystem/payment-type", {"payment", "adjustment", "advance"})


def coded(concept, binding, where):
    system, codes = binding
    codings = (concept or {}).get("coding", [])
    if not any(c.get("system") == system and c.get("code") in codes for c in codings):
        raise ValueError(f"{where}: no coding from {system} among {sorted(codes)}")


def check(doc):
    if fhir.resources.__fhir_version__ != FHIR_VERSION:
        raise SystemExit(f"fhir.resources models FHIR {fhir.resources.__fhir_version__}, not {FHIR_VERSION}")
    kind = doc.get("resourceType")
    if kind not in ("PaymentNotice", "PaymentReconciliation"):
        raise ValueError(f"unexpected resourceType {kind!r}")
    construct_fhir_element(kind, doc)
    if doc.get("status") not in STATUS:
        raise ValueError(f"status {doc.get('status')!r} is not a FinancialResourceStatusCodes code")
    if kind == "PaymentNotice" and "paymentStatus" in doc:
        coded(doc["paymentStatus"], PAYMENT_STATUS, "paymentStatus")
    if kind == "PaymentReconciliation":
        if "outcome" in doc and doc["outcome"] not in OUTCOME:
            raise ValueError(f"outcome {doc['outcome']!r} is not a RemittanceOutcome code")
        for i, d in enumerate(doc.get("detail", [])):
            coded(d.get("type"), PAYMENT_TYPE, f"detail[{i}].type")
    return kind


def main(paths):
    failed = False
    for path in paths:
        with open(path, encoding="utf-8") as f:
            text = f.read().strip()
        docs = [json.loads(text)] if text.startswith("{") and "\n" not in text else [json.loads(l) for l in text.splitlines() if l.strip()]
        for doc in docs:
            try:
                print("ok", check(doc))
            except Exception as e:  # the validator's own error types vary
                failed = True
                print(f"invalid: {e}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
