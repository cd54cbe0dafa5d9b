"""Observability in the estate, read through terraform_eval as an apply would render it:
the ADOT collector beside every task and its configuration, the metrics port that stays
inside the task, the dashboard's body, and the alarms with where they send.

The application's metric names are the contract with the code that emits them: the
collector, the dashboard and the alarms may name only these, with the labels they carry.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from deploy_support import Terraform
from iam import Policy, Request
from terraform_eval import EvaluationError, Module, Unknown, attributes, blocks
from workloads import COLLECTOR, ENVIRONMENTS, container_definitions, estate, role_policies

from application.ports.metrics import REFRESH_OUTCOMES

# name -> labels the code puts on it (besides `environment`, which the collector adds).
APP_METRICS: dict[str, set[str]] = {
    "atelier_http_request_duration_seconds": {"entrypoint", "route", "method", "status"},
    "atelier_refresh_total": {"outcome"},
    "atelier_gateway_handshakes_total": {"outcome", "reason"},
    "atelier_gateway_sockets_open": set(),
    "atelier_gateway_messages_delivered_total": set(),
    "atelier_gateway_slow_consumers_closed_total": set(),
    "atelier_jwks_fetches_total": {"outcome"},
    "atelier_jobs_total": {"outcome"},
    "atelier_generation_seconds": set(),
    "atelier_outbox_lag_seconds": set(),
    "atelier_queue_depth": {"queue"},
    "atelier_maintenance_runs_total": {"outcome"},
}
NAMESPACE = "Atelier"
METRICS_PORT = 9464
OTLP_PORT = 4318
PINNED_COLLECTOR = re.compile(
    r"public\.ecr\.aws/aws-observability/aws-otel-collector:v\d+\.\d+\.\d+")


@pytest.fixture(scope="module", params=ENVIRONMENTS)
def root(request: pytest.FixtureRequest) -> Module:
    return estate(request.param)


def collector_config(container: dict[str, Any]) -> dict[str, Any]:
    (content,) = [e["value"] for e in container["environment"]
                  if e["name"] == "AOT_CONFIG_CONTENT"]
    return dict(yaml.safe_load(content))


def declared_dimensions(root: Module) -> dict[str, list[set[str]]]:
    """Metric -> the dimension sets the collectors keep in CloudWatch (all tasks agree)."""
    found: dict[str, list[set[str]]] = {}
    for family, definitions in container_definitions(root).items():
        (collector,) = [c for c in definitions if c["name"] == COLLECTOR]
        emf = collector_config(collector)["exporters"]["awsemf"]
        declared = {}
        for declaration in emf["metric_declarations"]:
            (selector,) = declaration["metric_name_selectors"]
            declared[selector.strip("^$")] = [set(d) for d in declaration["dimensions"]]
        assert not found or declared == found, f"{family}: declarations differ"
        found = declared
    return found


# ---------------------------------------------------------------------------------------
# The collector beside every task


def test_every_task_runs_a_pinned_collector_beside_its_application(root: Module) -> None:
    definitions = container_definitions(root)
    assert {"mobile-api", "admin-api", "gateway", "console", "worker", "migrate",
            "keys-rotate", "guests-purge", "maintenance-run"} <= set(definitions)
    for family, containers in definitions.items():
        names = [c["name"] for c in containers]
        assert names == [family, COLLECTOR], f"{family}: {names}"
        application, collector = containers
        assert PINNED_COLLECTOR.fullmatch(collector["image"]), collector["image"]
        # Telemetry is never worth the application: the collector is not essential.
        assert application["essential"] is True and collector["essential"] is False
        assert collector["readonlyRootFilesystem"] is True and collector["privileged"] is False
        assert collector["user"] == "10001:10001"
        assert collector["healthCheck"]["command"] == ["CMD", "/healthcheck"]
        assert {"containerName": COLLECTOR, "condition": "START"} in application["dependsOn"]
        environment = {e["name"]: e["value"] for e in application["environment"]}
        assert environment["ATELIER_METRICS_PORT"] == str(METRICS_PORT), family
        assert environment["OTEL_EXPORTER_OTLP_ENDPOINT"] == f"http://localhost:{OTLP_PORT}"
        assert environment["OTEL_SERVICE_NAME"] == f"atelier-{family}"
        # X-Ray bills per trace: a share of new traces, callers' decisions followed.
        assert environment["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
        assert float(environment["OTEL_TRACES_SAMPLER_ARG"]) == root.var("trace_sample_ratio")


def test_the_collector_scrapes_the_task_and_exports_to_cloudwatch_and_xray(
    root: Module,
) -> None:
    log_group = root.module("compute").instances(
        "resource", "aws_cloudwatch_log_group", "metrics")[None]
    for family, containers in container_definitions(root).items():
        config = collector_config(containers[1])
        # Suffixes kept: a counter arrives as atelier_refresh_total, the name alarms use.
        assert config["receivers"]["prometheus"]["trim_metric_suffixes"] is False
        (scrape,) = config["receivers"]["prometheus"]["config"]["scrape_configs"]
        (targets,) = scrape["static_configs"]
        assert targets["targets"] == [f"127.0.0.1:{METRICS_PORT}"], family
        assert targets["labels"] == {"environment": root.var("environment")}
        # OTLP from the application only: bound to the task's loopback.
        assert config["receivers"]["otlp"]["protocols"]["http"]["endpoint"] == (
            f"127.0.0.1:{OTLP_PORT}")
        emf = config["exporters"]["awsemf"]
        assert emf["namespace"] == NAMESPACE
        assert emf["log_group_name"] == log_group.argument("name")
        assert emf["dimension_rollup_option"] == "NoDimensionRollup"
        pipelines = config["service"]["pipelines"]
        assert pipelines["metrics"]["receivers"] == ["prometheus"]
        assert pipelines["metrics"]["exporters"] == ["awsemf"]
        assert pipelines["traces"] == {"receivers": ["otlp"], "processors": ["batch"],
                                       "exporters": ["awsxray"]}
        assert "health_check" in config["service"]["extensions"]


def test_the_collector_keeps_exactly_the_application_metrics_with_their_labels(
    root: Module,
) -> None:
    declared = declared_dimensions(root)
    assert set(declared) == set(APP_METRICS)
    for metric, sets in declared.items():
        for dimensions in sets:
            assert "environment" in dimensions, metric
            assert dimensions - {"environment"} <= APP_METRICS[metric], (metric, dimensions)


def test_task_roles_may_write_traces_and_metrics_and_nothing_more(root: Module) -> None:
    compute = root.module("compute")
    telemetry = role_policies(compute, "telemetry")
    name = root.local("name")
    assert set(telemetry) == {f"{name}-{family}-task" for family in container_definitions(root)}
    group = "arn:aws:logs:us-east-1:123456789012:log-group:/ecs/x/metrics"
    rendered = estate(str(root.var("environment")), {
        "aws_cloudwatch_log_group.metrics.arn": group})
    for role, documents in role_policies(rendered.module("compute"), "telemetry").items():
        policy = Policy.from_documents(role, documents)
        assert policy.allows(Request("xray:PutTraceSegments", "*"))
        assert policy.allows(Request("logs:PutLogEvents", f"{group}:log-stream:worker/abc"))
        assert not policy.allows(Request("logs:PutLogEvents", f"{group}-other:log-stream:x"))
        assert not policy.allows(Request("cloudwatch:PutMetricData", "*"))
        actions = {a for s in policy.statements for a in s["Action"]}
        assert actions == {"xray:PutTraceSegments", "xray:PutTelemetryRecords",
                           "logs:CreateLogStream", "logs:PutLogEvents",
                           "logs:DescribeLogStreams"}


# ---------------------------------------------------------------------------------------
# The metrics port stays inside the task


def test_the_metrics_port_is_in_no_mapping_target_group_or_ingress_rule(
    root: Module, terraform: Terraform,
) -> None:
    for family, containers in container_definitions(root).items():
        for container in containers:
            ports = {m["containerPort"] for m in container.get("portMappings", [])}
            assert METRICS_PORT not in ports and OTLP_PORT not in ports, family
            assert ports <= {8000}, (family, container["name"], ports)
    for group in root.module("edge").instances("resource", "aws_lb_target_group", "this").values():
        assert group.argument("port") == 8000
        (check,) = group.nested("health_check")
        assert check.get("port") in (None, "traffic-port")
    network = root.module("network")
    for name in ("workload_from_alb", "database", "cache"):
        for rule in network.instances(
                "resource", "aws_vpc_security_group_ingress_rule", name).values():
            low, high = rule.argument("from_port"), rule.argument("to_port")
            for port in (METRICS_PORT, OTLP_PORT):
                assert not low <= port <= high, (name, rule.key)
    for rule in terraform.resources("aws_vpc_security_group_ingress_rule"):
        assert str(METRICS_PORT) not in json.dumps(rule.body), rule.where


# ---------------------------------------------------------------------------------------
# The dashboard


def dashboard(root: Module) -> dict[str, Any]:
    observability = root.module("observability")
    board = observability.instances("resource", "aws_cloudwatch_dashboard", "this")[None]
    return dict(json.loads(board.argument("dashboard_body")))


SEARCH = re.compile(r"SEARCH\('\{([^}]*)\}\s+MetricName=\"(\w+)\"\s+environment=\"(\w+)\"'")


def dashboard_metrics(body: dict[str, Any]) -> list[tuple[str, str, set[str], str | None]]:
    """(namespace, metric, dimension names, environment) of every graphed metric."""
    found = []
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            if isinstance(row[-1], dict) and "expression" in row[-1]:
                search = SEARCH.search(row[-1]["expression"])
                assert search, row
                namespace, *dimensions = search.group(1).split(",")
                found.append((namespace, search.group(2), set(dimensions), search.group(3)))
                continue
            values = [v for v in row if not isinstance(v, dict)]
            namespace, metric, *pairs = values
            dimensions = dict(zip(pairs[::2], pairs[1::2], strict=True))
            found.append((namespace, metric, set(dimensions), dimensions.get("environment")))
    return found


def test_the_dashboard_graphs_every_application_metric_and_nothing_else(root: Module) -> None:
    body = dashboard(root)
    widgets = body["widgets"]
    assert all(w["width"] + w["x"] <= 24 for w in widgets)
    positions = [(w["x"], w["y"]) for w in widgets]
    assert len(set(positions)) == len(positions), "widgets overlap"
    graphed = dashboard_metrics(body)
    declared = declared_dimensions(root)
    environment = root.var("environment")
    for namespace, metric, dimensions, env in graphed:
        assert namespace == NAMESPACE, (namespace, metric)
        assert metric in APP_METRICS, f"{metric} is not a metric the application emits"
        assert dimensions in declared[metric], (metric, dimensions, "not kept by the collector")
        assert env == environment
    assert {m for _, m, _, _ in graphed} == set(APP_METRICS)
    for widget in widgets:
        if widget["type"] == "metric":
            assert widget["properties"]["region"] == "us-east-1"  # the estate's, in tests


def test_the_dashboard_shows_the_alarms_of_its_region(root: Module) -> None:
    (panel,) = [w for w in dashboard(root)["widgets"] if w["type"] == "alarm"]
    alarms = panel["properties"]["alarms"]
    assert len(alarms) >= 10
    text = " ".join(map(str, alarms))
    for alarm in ("alb_5xx", "outbox_lag", "handshake_refusals", "dlq_depth", "queue_age",
                  "refresh_failures", "no_running_tasks", "job_failed"):
        assert f"aws_cloudwatch_metric_alarm.{alarm}" in text, alarm


# ---------------------------------------------------------------------------------------
# Alarms


def alarms(root: Module) -> dict[str, Any]:
    """Every alarm instance (those over the cache's nodes, known only after an apply,
    are left out)."""
    observability = root.module("observability")
    found = {}
    for (type_, name) in observability.resources:
        if type_ != "aws_cloudwatch_metric_alarm":
            continue
        try:
            instances = observability.instances("resource", type_, name)
        except EvaluationError:
            assert name.startswith("redis_"), name
            continue
        for key, alarm in instances.items():
            found[f"{name}[{key}]" if key is not None else name] = alarm
    return found


def test_every_alarm_notifies_an_encrypted_topic(root: Module) -> None:
    observability = root.module("observability")
    topics = {}
    for name in ("alarms", "edge_alarms"):
        topic = observability.instances("resource", "aws_sns_topic", name)[None]
        assert topic.argument("kms_master_key_id"), name
        topics[str(topic.attr("arn"))] = topic
    found = alarms(root)
    assert len(found) > 20
    for name, alarm in found.items():
        actions = alarm.argument("alarm_actions")
        assert actions and all(isinstance(a, Unknown) for a in actions), name
        assert {str(a) for a in actions} <= set(topics), (name, actions)
    # The WAF alarm and its topic share us-east-1, where WAF on CloudFront reports.
    edge_topic = observability.instances("resource", "aws_sns_topic", "edge_alarms")[None]
    for resource in (found["waf_blocked"], edge_topic):
        provider = str(attributes(resource.body)["provider"].serialize())
        assert provider.strip("${}") == "aws.us_east_1", resource.address
    subscriptions = {n: observability.instances("resource", "aws_sns_topic_subscription", n)
                     for n in ("email", "https", "edge_email", "edge_https")}
    emails = set(root.var("alarm_emails"))
    assert set(subscriptions["email"]) == emails == set(subscriptions["edge_email"])
    assert set(subscriptions["https"]) == set(root.var("alarm_https_endpoints"))
    for subscription in subscriptions["https"].values():
        assert subscription.argument("protocol") == "https"


def test_what_the_on_call_person_acts_on_has_an_alarm(root: Module) -> None:
    found = alarms(root)

    def watched(alarm: Any) -> set[tuple[str, str]]:
        """(namespace, metric) the alarm reads, directly or in its metric math."""
        found = {(alarm.argument("namespace"), alarm.argument("metric_name"))}
        for query in blocks(alarm.body, "metric_query"):
            for metric in blocks(query.body, "metric"):
                values = {k: alarm.module.eval(e, alarm.env)
                          for k, e in attributes(metric.body).items()}
                found.add((values["namespace"], values["metric_name"]))
        return found

    def watching(namespace: str, metric: str) -> list[Any]:
        return [a for a in found.values() if (namespace, metric) in watched(a)]

    assert watching("AWS/ApplicationELB", "HTTPCode_Target_5XX_Count")
    assert watching("AWS/ApplicationELB", "RequestCount"), "5xx as a rate of requests"
    refresh = watching(NAMESPACE, "atelier_refresh_total")
    outcomes = set(root.var("refresh_failure_outcomes"))
    assert {a.argument("dimensions")["outcome"] for a in refresh} == outcomes
    # Outcomes the code counts (an alarm on a label value never emitted never fires), and
    # never the successful ones.
    assert outcomes <= set(REFRESH_OUTCOMES) - {"rotated", "raced"}, outcomes
    assert "reused" in outcomes, "a replayed refresh token is a theft: it must page"
    (handshakes,) = watching(NAMESPACE, "atelier_gateway_handshakes_total")
    assert handshakes.argument("dimensions")["outcome"] == "refused"
    assert watching(NAMESPACE, "atelier_outbox_lag_seconds")
    assert watching("AWS/SQS", "ApproximateNumberOfMessagesVisible")  # the DLQ
    assert watching("AWS/SQS", "ApproximateAgeOfOldestMessage")
    running = watching("ECS/ContainerInsights", "RunningTaskCount")
    services = root.module("compute").instances("resource", "aws_ecs_service", "this")
    assert {a.key for a in running} == set(services)
    assert all(a.argument("treat_missing_data") == "breaching" for a in running)
    assert watching("AWS/WAFV2", "BlockedRequests")
    schedules = set(root.module("compute").local("schedules"))
    assert {a.key for a in watching("AWS/Events", "FailedInvocations")} == schedules
    failed = [a for a in found.values() if a.name == "job_failed"]
    assert {a.key for a in failed} == schedules


def test_application_alarms_name_metrics_the_collector_keeps(root: Module) -> None:
    declared = declared_dimensions(root)
    for name, alarm in alarms(root).items():
        if alarm.argument("namespace") != NAMESPACE:
            continue
        metric = alarm.argument("metric_name")
        assert metric in APP_METRICS, name
        dimensions = alarm.argument("dimensions")
        assert set(dimensions) in declared[metric], (name, dimensions)
        assert dimensions["environment"] == root.var("environment")


def test_failed_scheduled_jobs_reach_their_alarms(root: Module) -> None:
    observability = root.module("observability")
    rule = observability.instances("resource", "aws_cloudwatch_event_rule", "failed_jobs")[None]
    pattern = json.loads(rule.argument("event_pattern"))
    families = root.module("compute").instances("resource", "aws_ecs_task_definition", "this")
    schedules = sorted(root.module("compute").local("schedules"))
    assert pattern["source"] == ["aws.ecs"]
    assert pattern["detail"]["lastStatus"] == ["STOPPED"]
    assert sorted(pattern["detail"]["group"]) == sorted(
        f"family:{families[job].argument('family')}" for job in schedules)
    nonzero, failed_to_start = pattern["detail"]["$or"]
    assert sorted(nonzero["containers"]["name"]) == schedules
    assert nonzero["containers"]["exitCode"] == [{"anything-but": 0}]
    assert failed_to_start == {"stopCode": ["TaskFailedToStart"]}
    target = observability.instances("resource", "aws_cloudwatch_event_target", "failed_jobs")
    (target,) = target.values()
    assert "aws_cloudwatch_log_group.failed_jobs" in str(target.argument("arn"))
    filters = observability.instances("resource", "aws_cloudwatch_log_metric_filter",
                                      "failed_jobs")
    for job in schedules:
        family = families[job].argument("family")
        assert filters[job].argument("pattern") == f'{{ $.detail.group = "family:{family}" }}'
    policy = json.loads(str(observability.instances(
        "data", "aws_iam_policy_document", "failed_jobs_log")[None].attr("json")))
    (statement,) = policy["Statement"]
    assert statement["Action"] == ["logs:CreateLogStream", "logs:PutLogEvents"]
