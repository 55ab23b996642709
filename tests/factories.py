"""Plain functions that make test content."""

from __future__ import annotations

from pathlib import Path

from app.reports.schemas import ClosestArticle, GapReportTopic, TopicTrend, Verdict


def article_markdown(
    *,
    id: str,
    title: str,
    locale: str = "ja",
    body: str = "## 手順\n1. 設定を開きます。",
    category: str = "account",
    tags: tuple[str, ...] = (),
    translation_of: str | None = None,
    visibility: str = "public",
) -> str:
    lines = [
        "---",
        f"id: {id}",
        f"title: {title}",
        f"locale: {locale}",
        f"category: {category}",
        f"tags: [{', '.join(tags)}]",
        f"url: https://help.example/{locale}/{id}",
        "updated: 2026-10-01",
        f"visibility: {visibility}",
    ]
    if translation_of:
        lines.append(f"translation_of: {translation_of}")
    return "\n".join([*lines, "---", "", body, ""])


def write_article(content_dir: Path, **fields: object) -> Path:
    path = content_dir / str(fields.get("locale", "ja")) / f"{fields['id']}.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(article_markdown(**fields), encoding="utf-8")  # type: ignore[arg-type]
    return path


def small_help_center(content_dir: Path) -> Path:
    """Five articles: a ja/en translation pair, a ja-only, an en-only, and an internal one."""
    write_article(
        content_dir,
        id="reset-password",
        title="パスワードを忘れた場合の再設定方法",
        tags=("パスワード",),
        body="## 手順\n1. ログイン画面で「パスワードをお忘れの方」をクリックします。\n"
        "2. 登録メールアドレスを入力し、届いたメールのリンクから新しいパスワードを設定します。\n"
        "## 届かない場合\n迷惑メールフォルダを確認してください。",
    )
    write_article(
        content_dir,
        id="reset-password-en",
        title="How to reset a forgotten password",
        locale="en",
        translation_of="reset-password",
        tags=("password",),
        body="## Steps\n1. On the sign-in page click Forgot your password.\n"
        "2. Enter your email address and follow the link to set a new password.",
    )
    write_article(
        content_dir,
        id="paid-leave",
        title="有給休暇の付与日数と自動付与",
        category="leave",
        body="## 付与日数\n入社6か月後に10日の有給休暇が自動で付与されます。\n"
        "## 設定\n「設定」>「休暇設定」で付与ルールを変更します。",
    )
    write_article(
        content_dir,
        id="webhook-setup",
        title="Setting up webhooks",
        locale="en",
        category="integrations",
        body="## Create a webhook\nOpen Settings > Integrations > Webhooks and add an HTTPS endpoint URL.\n"
        "## Retries\nFailed deliveries are retried five times with exponential backoff.",
    )
    write_article(
        content_dir,
        id="internal-runbook",
        title="【社内向け】パスワード問い合わせ対応手順",
        visibility="internal",
        body="## 対応\nサポート担当者はパスワードリセットを代行しません。",
    )
    return content_dir


def gap_topic(label: str, *, volume: int = 3, verdict: Verdict = "missing_article") -> GapReportTopic:
    """A gap report topic of `volume` failing questions, no closest article, no previous period."""
    return GapReportTopic(
        label=label,
        volume=volume,
        share=1.0,
        failure_rate=1.0,
        impact=float(volume),
        locales={"en": volume},
        signals={"no_result": volume},
        examples=[label],
        query_ids=[f"{label}-{i}" for i in range(volume)],
        ticket_ids=[],
        closest_article=ClosestArticle(article_id=None, similarity=0.0),
        verdict=verdict,
        trend=TopicTrend(previous_volume=0, change=None),
    )
