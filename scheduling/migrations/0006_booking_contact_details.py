"""A booking keeps the contact details given with it (ADR 0009).

Bookings made before this migration get their customer's stored name, email and phone: that is what
every page showed for them until now.
"""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery

def copy_contact_details(apps, schema_editor):
    Booking = apps.get_model("scheduling", "Booking")
    Customer = apps.get_model("scheduling", "Customer")
    customer = Customer.objects.filter(pk=OuterRef("customer_id"))
    # One UPDATE for the whole table, whatever its size.
    Booking.objects.update(
        customer_name=Subquery(customer.values("name")[:1]),
        customer_email=Subquery(customer.values("email")[:1]),
        customer_phone=Subquery(customer.values("phone")[:1]),
    )


class Migration(migrations.Migration):
    dependencies = [
        ("scheduling", "0005_register_idempotency_purge"),
    ]

    operations = [
        # The empty default only fills the new columns of existing rows until the copy below; the
        # fields themselves have none, so every new booking must be given them.
        migrations.AddField(
            model_name="booking",
            name="customer_name",
            field=models.CharField(default="", max_length=200),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="booking",
            name="customer_email",
            field=models.EmailField(default="", max_length=254),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="booking",
            name="customer_phone",
            field=models.CharField(blank=True, max_length=32),
        ),
        migrations.RunPython(copy_contact_details, migrations.RunPython.noop),
    ]
