from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("cases", "0008_social_links_case_safe")]

    operations = [
        migrations.AddField(
            model_name="findinglink",
            name="withdrawn_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
