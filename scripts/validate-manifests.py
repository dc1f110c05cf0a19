#!/usr/bin/env python3
"""Validate the example's Kubernetes manifests offline.

Built-in kinds are checked strictly against the bundled Kubernetes schemas
(kubernetes-validate). A CustomPodAutoscaler (custompodautoscaler.com/v1) has
no bundled schema, so its spec keys are checked against the operator's
CustomPodAutoscalerSpec, and its pod template is validated strictly as a
Kubernetes PodTemplate. Exits 1 with one line per problem.

Usage: scripts/validate-manifests.py FILE...
"""
import sys

import kubernetes_validate
import yaml

CPA_SPEC_KEYS = {
    "template", "scaleTargetRef", "config", "provisionRole",
    "provisionRoleBinding", "provisionServiceAccount", "provisionPod",
    "roleRequiresMetricsServer", "roleRequiresArgoRollouts",
}
SCALE_TARGET_KEYS = {"apiVersion", "kind", "name"}
K8S_VERSION = "1.33.0"


def validate_builtin(doc):
    try:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.ValidationError as err:
        return [f"{err.message} (at {'.'.join(map(str, err.path))})"]
    except kubernetes_validate.SchemaNotFoundError:
        return [f"no schema for {doc.get('apiVersion')}/{doc.get('kind')}"]
    return []


def validate_cpa(doc):
    problems = []
    if doc.get("apiVersion") != "custompodautoscaler.com/v1":
        problems.append(f"apiVersion '{doc.get('apiVersion')}'; expected custompodautoscaler.com/v1")
    spec = doc.get("spec") or {}
    unknown = set(spec) - CPA_SPEC_KEYS
    if unknown:
        problems.append(f"spec has unknown keys {sorted(unknown)}; expected some of {sorted(CPA_SPEC_KEYS)}")
    for key in ("template", "scaleTargetRef"):
        if key not in spec:
            problems.append(f"spec.{key} is missing")
    ref = spec.get("scaleTargetRef") or {}
    if set(ref) != SCALE_TARGET_KEYS:
        problems.append(f"spec.scaleTargetRef keys {sorted(ref)}; expected {sorted(SCALE_TARGET_KEYS)}")
    for i, entry in enumerate(spec.get("config") or []):
        if set(entry) != {"name", "value"} or not isinstance(entry.get("value"), str):
            problems.append(f"spec.config[{i}] {entry}; expected {{name: ..., value: \"a string\"}}")
    if "template" in spec:
        template = {"apiVersion": "v1", "kind": "PodTemplate",
                    "metadata": {"name": "cpa-template"}, "template": spec["template"]}
        problems += [f"spec.template: {p}" for p in validate_builtin(template)]
    return problems


def main(paths):
    failed = False
    for path in paths:
        with open(path) as handle:
            docs = [d for d in yaml.safe_load_all(handle) if d]
        for doc in docs:
            what = f"{path}: {doc.get('kind') if isinstance(doc, dict) else doc}/{(doc.get('metadata') or {}).get('name') if isinstance(doc, dict) else ''}"
            if not isinstance(doc, dict) or not doc.get("apiVersion") or not doc.get("kind"):
                print(f"{path}: not a Kubernetes object (no apiVersion or kind)", file=sys.stderr)
                failed = True
                continue
            check = validate_cpa if doc.get("kind") == "CustomPodAutoscaler" else validate_builtin
            problems = check(doc)
            for problem in problems:
                print(f"{what}: {problem}", file=sys.stderr)
            failed |= bool(problems)
            if not problems:
                print(f"{what}: valid")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
