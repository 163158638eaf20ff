"""Social links: the case-facing URL is rebuilt from the content id alone.

Existing rows kept the patient's handle, community and title slug (and, for
other sites, the query) in ``canonical_url``, and the finding rows copied it
to cases. This recomputes both from what the patient pasted, with the parser
of this release; a link that can no longer be shown on a case (a share link,
a profile) gets an empty ``canonical_url`` and its findings lose the URL.
"""

from django.db import migrations, models


def recompute(apps, schema_editor):
    from portal.social_links import SocialLinkError, parse_social_link

    SocialLink = apps.get_model("cases", "SocialLink")
    FindingLink = apps.get_model("cases", "FindingLink")

    def parsed(url: str):
        try:
            return parse_social_link(url)
        except SocialLinkError:
            return None

    for link in SocialLink.objects.iterator():
        result = parsed(link.url)
        link.canonical_url = (result.canonical_url or "") if result else ""
        link.embed_url = (result.embed_url or "") if result else ""
        link.content_id = (result.content_id or "") if result else ""
        link.save(update_fields=["canonical_url", "embed_url", "content_id"])
    findings = FindingLink.objects.exclude(canonical_url="", embed_url="")
    for finding in findings.select_related("submission__link").iterator():
        link = finding.submission.link
        source = link.url if link is not None else finding.canonical_url
        result = parsed(source) if source else None
        finding.canonical_url = (result.canonical_url or "") if result else ""
        finding.embed_url = (result.embed_url or "") if result else ""
        finding.save(update_fields=["canonical_url", "embed_url"])


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_submission_withdrawn_may_be_empty")]

    operations = [
        migrations.AlterField(
            model_name="sociallink",
            name="canonical_url",
            field=models.CharField(blank=True, max_length=2048),
        ),
        migrations.RunPython(recompute, migrations.RunPython.noop, elidable=True),
    ]
