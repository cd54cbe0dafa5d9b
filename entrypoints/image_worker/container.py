"""The image worker's composition root: the only place its adapters are built."""

from dependency_injector import containers, providers

from application.images.fail_dead_job import FailDeadJob
from application.images.notify_ready import NotifyImageReady
from application.images.process_image_job import ProcessImageJob
from application.images.relay_outbox import RelayOutbox, to_notifications
from domain.shared.clock import utcnow
from entrypoints.image_worker.worker import ImageWorker
from entrypoints.wiring import builders, resources
from entrypoints.wiring.background import OutboxRelayRunner, WakeupEvent
from entrypoints.wiring.settings import Settings


class WorkerContainer(containers.DeclarativeContainer):
    settings = providers.Dependency(instance_of=Settings)
    clock = providers.Object(utcnow)
    image_policy = providers.Singleton(lambda s: s.image_policy(), settings)

    engine = providers.Resource(resources.open_engine, settings.provided.sql_url)
    aws = providers.Resource(resources.open_aws, settings)
    redis = providers.Resource(resources.open_redis, settings.provided.redis_url)
    uow_factory = providers.Singleton(builders.sql_uow_factory, engine)
    bus = providers.Singleton(builders.build_bus, redis)
    mailer = providers.Resource(builders.build_mailer, settings, aws)
    job_queue = providers.Resource(builders.build_job_queue, settings, aws)
    object_store = providers.Resource(builders.build_object_store, settings, aws)
    generator = providers.Resource(builders.build_generator, settings)

    notifications_wakeup = providers.Singleton(WakeupEvent)
    notify = providers.Singleton(
        NotifyImageReady, bus, mailer, object_store, image_policy)
    notifications_relay = providers.Singleton(
        OutboxRelayRunner,
        providers.Singleton(RelayOutbox, uow_factory, providers.Singleton(to_notifications, notify),
                            clock),
        notifications_wakeup, settings.provided.outbox_poll_seconds)
    process = providers.Singleton(
        ProcessImageJob, uow_factory, job_queue, generator, object_store, image_policy, clock,
        notifications_wakeup)
    fail_dead = providers.Singleton(FailDeadJob, uow_factory, clock)

    worker = providers.Singleton(
        ImageWorker, job_queue, process, fail_dead, notifications_relay, image_policy,
        concurrency=settings.provided.worker_concurrency,
        wait_seconds=settings.provided.worker_wait_seconds)
