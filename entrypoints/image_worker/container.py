"""The image worker's composition root: its use cases, wired to the shared infrastructure."""

from dependency_injector import containers, providers

from application.exports.build_export import BuildExport, export_jobs
from application.identity.account_cleanup import CleanupRelay
from application.images.fail_dead_job import FailDeadJob
from application.images.notify_ready import NotifyImageReady
from application.images.process_image_job import ProcessImageJob
from application.images.relay_outbox import RelayOutbox, to_notifications
from entrypoints.image_worker.tracing import TracedImageGenerator, TracedObjectStore
from entrypoints.image_worker.worker import ImageWorker
from entrypoints.wiring.background import OutboxRelayRunner, WakeupEvent
from entrypoints.wiring.tracing import traced_destinations


class WorkerContainer(containers.DeclarativeContainer):
    infrastructure = providers.DependenciesContainer()
    settings = infrastructure.settings
    uow_factory, clock, image_policy = (
        infrastructure.uow_factory, infrastructure.clock, infrastructure.image_policy)
    job_queue, object_store = infrastructure.job_queue, infrastructure.object_store
    # metrics on their own port; the queue's depth read at each scrape
    metrics, metrics_server = infrastructure.metrics, infrastructure.metrics_server
    queue_depth = infrastructure.queue_depth

    notifications_wakeup = providers.Singleton(WakeupEvent)
    notify = providers.Singleton(
        NotifyImageReady, infrastructure.bus, infrastructure.mailer, object_store, image_policy)
    notifications_relay = providers.Singleton(
        OutboxRelayRunner,
        providers.Singleton(RelayOutbox, uow_factory, providers.Singleton(
            traced_destinations, providers.Singleton(to_notifications, notify)), clock),
        notifications_wakeup, settings.provided.outbox_poll_seconds)
    process = providers.Singleton(
        ProcessImageJob, uow_factory, job_queue,
        providers.Singleton(TracedImageGenerator, infrastructure.generator),
        providers.Singleton(TracedObjectStore, object_store),
        image_policy, clock, notifications_wakeup)
    fail_dead = providers.Singleton(FailDeadJob, uow_factory, clock)

    # Data exports: built outside the claiming transaction (a build reads the database and
    # the object store for a while); the ready e-mail follows through the same relay.
    build_export = providers.Singleton(
        BuildExport, uow_factory, object_store, clock, infrastructure.exports_wakeup)
    exports_relay = providers.Singleton(
        OutboxRelayRunner,
        providers.Singleton(
            CleanupRelay, uow_factory,
            providers.Singleton(export_jobs, build_export, infrastructure.mailer), clock),
        infrastructure.exports_wakeup, settings.provided.outbox_poll_seconds)

    worker = providers.Singleton(
        ImageWorker, job_queue, process, fail_dead, notifications_relay, image_policy,
        concurrency=settings.provided.worker_concurrency,
        wait_seconds=settings.provided.worker_wait_seconds,
        relays=providers.List(exports_relay), metrics=metrics)
