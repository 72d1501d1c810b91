"""Provider.availability_version and the triggers that bump it (docs/decisions/0007-api-cost-per-request.md,
"Slots cache").

Every table whose rows feed the availability engine bumps the version of the provider(s) a changed row
belongs to, in the writer's own transaction, so no write path (services, admin, QuerySet.update(), raw
SQL, calendar sync) can forget to. The SQL is written out here, not imported: a migration must keep
doing what it did when it was written.

- Each bump takes a fresh value from one sequence, never `version + 1`: a value is never handed out
  twice, even by a transaction that rolls back, so a slot list computed inside a transaction that is
  later rolled back sits under a key nobody will ever read again.
- The triggers fire BEFORE the row changes, so the provider row is locked before the booking row is
  modified. booking_create locks the provider and then inserts; its exclusion check waits only for
  bookings modified, not merely locked, by another transaction. Bumping after the modification would
  let a cancellation (booking modified, waiting for the provider) and a booking of the freed time
  (provider locked, waiting for that booking) deadlock.
- The provider's own row (BEFORE INSERT OR UPDATE) takes a fresh value when its zone or is_active
  changes, or when anything writes availability_version at all: a Django save() of a provider read
  before a bump would otherwise put an older value back. The other triggers ask for a bump that way.
"""

from django.db import migrations, models

FORWARD = """
CREATE SEQUENCE scheduling_availability_version_seq;

CREATE FUNCTION scheduling_provider_version_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT'
       OR NEW.availability_version IS DISTINCT FROM OLD.availability_version
       OR NEW.timezone IS DISTINCT FROM OLD.timezone
       OR NEW.is_active IS DISTINCT FROM OLD.is_active THEN
        NEW.availability_version := nextval('scheduling_availability_version_seq');
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER scheduling_provider_version_guard
    BEFORE INSERT OR UPDATE ON scheduling_provider
    FOR EACH ROW EXECUTE FUNCTION scheduling_provider_version_guard();

-- Bump one or two providers (a row moving from one to another), the lower id first so that two
-- transactions bumping the same pair lock them in the same order.
CREATE FUNCTION scheduling_bump_availability(a bigint, b bigint) RETURNS void LANGUAGE sql AS $$
    UPDATE scheduling_provider SET availability_version = availability_version + 1
     WHERE id = least(a, b);
    UPDATE scheduling_provider SET availability_version = availability_version + 1
     WHERE id = greatest(a, b) AND a IS DISTINCT FROM b;
$$;

-- Rules, blocked times (calendar imports among them) and service links: any change of a row.
CREATE FUNCTION scheduling_row_bumps_provider() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM scheduling_bump_availability(NEW.provider_id, NEW.provider_id);
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM scheduling_bump_availability(OLD.provider_id, OLD.provider_id);
        RETURN OLD;
    END IF;
    PERFORM scheduling_bump_availability(OLD.provider_id, NEW.provider_id);
    RETURN NEW;
END $$;

CREATE TRIGGER scheduling_availabilityrule_version
    BEFORE INSERT OR UPDATE OR DELETE ON scheduling_availabilityrule
    FOR EACH ROW EXECUTE FUNCTION scheduling_row_bumps_provider();
CREATE TRIGGER scheduling_blockedtime_version
    BEFORE INSERT OR UPDATE OR DELETE ON scheduling_blockedtime
    FOR EACH ROW EXECUTE FUNCTION scheduling_row_bumps_provider();
CREATE TRIGGER scheduling_service_providers_version
    BEFORE INSERT OR UPDATE OR DELETE ON scheduling_service_providers
    FOR EACH ROW EXECUTE FUNCTION scheduling_row_bumps_provider();

-- Bookings: every insert and delete; an update only when what makes it busy time changes (its
-- provider, status or spans), not its notes, contact details or payment fields.
CREATE FUNCTION scheduling_booking_bumps_provider() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM scheduling_bump_availability(NEW.provider_id, NEW.provider_id);
        RETURN NEW;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM scheduling_bump_availability(OLD.provider_id, OLD.provider_id);
        RETURN OLD;
    END IF;
    IF NEW.provider_id IS DISTINCT FROM OLD.provider_id
       OR NEW.service_id IS DISTINCT FROM OLD.service_id
       OR NEW.status IS DISTINCT FROM OLD.status
       OR NEW.start_at IS DISTINCT FROM OLD.start_at
       OR NEW.end_at IS DISTINCT FROM OLD.end_at
       OR NEW.blocked_from IS DISTINCT FROM OLD.blocked_from
       OR NEW.blocked_until IS DISTINCT FROM OLD.blocked_until THEN
        PERFORM scheduling_bump_availability(OLD.provider_id, NEW.provider_id);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER scheduling_booking_version
    BEFORE INSERT OR UPDATE OR DELETE ON scheduling_booking
    FOR EACH ROW EXECUTE FUNCTION scheduling_booking_bumps_provider();

-- A service's slot settings: every provider offering it, in id order.
CREATE FUNCTION scheduling_service_bumps_providers() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    linked bigint;
BEGIN
    IF NEW.duration_minutes IS DISTINCT FROM OLD.duration_minutes
       OR NEW.slot_step_minutes IS DISTINCT FROM OLD.slot_step_minutes
       OR NEW.buffer_before_minutes IS DISTINCT FROM OLD.buffer_before_minutes
       OR NEW.buffer_after_minutes IS DISTINCT FROM OLD.buffer_after_minutes
       OR NEW.min_notice_minutes IS DISTINCT FROM OLD.min_notice_minutes
       OR NEW.max_advance_days IS DISTINCT FROM OLD.max_advance_days
       OR NEW.is_active IS DISTINCT FROM OLD.is_active THEN
        FOR linked IN
            SELECT provider_id FROM scheduling_service_providers WHERE service_id = OLD.id ORDER BY provider_id
        LOOP
            PERFORM scheduling_bump_availability(linked, linked);
        END LOOP;
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER scheduling_service_version
    BEFORE UPDATE ON scheduling_service
    FOR EACH ROW EXECUTE FUNCTION scheduling_service_bumps_providers();
"""

REVERSE = """
DROP TRIGGER scheduling_service_version ON scheduling_service;
DROP FUNCTION scheduling_service_bumps_providers();
DROP TRIGGER scheduling_booking_version ON scheduling_booking;
DROP FUNCTION scheduling_booking_bumps_provider();
DROP TRIGGER scheduling_service_providers_version ON scheduling_service_providers;
DROP TRIGGER scheduling_blockedtime_version ON scheduling_blockedtime;
DROP TRIGGER scheduling_availabilityrule_version ON scheduling_availabilityrule;
DROP FUNCTION scheduling_row_bumps_provider();
DROP FUNCTION scheduling_bump_availability(bigint, bigint);
DROP TRIGGER scheduling_provider_version_guard ON scheduling_provider;
DROP FUNCTION scheduling_provider_version_guard();
DROP SEQUENCE scheduling_availability_version_seq;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0015_booking_live_until_idx"),
    ]

    operations = [
        migrations.AddField(
            model_name="provider",
            name="availability_version",
            field=models.BigIntegerField(db_default=0, default=0, editable=False),
        ),
        migrations.RunSQL(FORWARD, REVERSE),
    ]
