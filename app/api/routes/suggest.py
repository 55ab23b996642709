"""Suggest articles for a question: the search box (GET, as the user types) and the inquiry form (POST)."""

from __future__ import annotations

from fastapi import APIRouter, Query

from app.api.deps import LiveIndexDep, PublicAccess, SessionDep, SuggesterDep
from app.api.metrics import SUGGESTIONS
from app.api.schemas import SuggestedArticlePublic, SuggestRequestBody, SuggestResponse
from app.suggestions import DEFAULT_LIMIT, MAX_LIMIT, SuggestionResult, SuggestRequest, suggest
from retrieval.search import SearchFilters
from retrieval.vocabulary import Channel

router = APIRouter(prefix="/v1", tags=["suggest"], dependencies=[PublicAccess])


@router.post("/suggest", response_model=SuggestResponse)
def suggest_articles(
    body: SuggestRequestBody,
    session: SessionDep,
    live_index: LiveIndexDep,
    suggester: SuggesterDep,
) -> SuggestResponse:
    """Suggest the help articles most likely to answer a question.

    Every response carries a `query_id` to report events against. `label` says whether the
    best result answers the question (`answered`), might (`low_confidence`) or nothing fits
    (`no_answer`, with no results). Set `confident_only` on an inquiry form to get nothing
    unless the answer is confident, and `composing` while an IME composition is in progress.
    """
    filters = body.filters
    request = SuggestRequest(
        text=body.text,
        channel=body.channel,
        locale=body.locale,
        client_id=body.client_id,
        limit=body.limit,
        filters=SearchFilters(
            category=filters.category if filters else None, tags=tuple(filters.tags) if filters else ()
        ),
        composing=body.composing,
        confident_only=body.confident_only,
    )
    result = suggest(session, index=live_index.current, suggester=suggester, request=request)
    return _response(result, body.channel)


# Search boxes send short text; longer questions go by POST (long URLs are refused by HTTP servers).
MAX_GET_CHARS = 1000


@router.get("/suggest", response_model=SuggestResponse)
def suggest_articles_for_search_box(
    session: SessionDep,
    live_index: LiveIndexDep,
    suggester: SuggesterDep,
    q: str = Query(description="the text in the search box (POST for longer questions)", max_length=MAX_GET_CHARS),
    locale: str | None = Query(default=None, max_length=16),
    channel: Channel = Channel.SEARCH,
    client_id: str | None = Query(default=None, max_length=128),
    limit: int = Query(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT),
    category: str | None = Query(default=None, max_length=100),
    composing: bool = False,
) -> SuggestResponse:
    """The same as POST /v1/suggest, as a GET for search boxes."""
    request = SuggestRequest(
        text=q,
        channel=channel,
        locale=locale,
        client_id=client_id,
        limit=limit,
        filters=SearchFilters(category=category),
        composing=composing,
    )
    result = suggest(session, index=live_index.current, suggester=suggester, request=request)
    return _response(result, channel)


def _response(result: SuggestionResult, channel: str) -> SuggestResponse:
    SUGGESTIONS.labels(channel, result.label).inc()
    return SuggestResponse(
        recorded=result.recorded,
        query_id=result.query_id,
        label=result.label,
        confidence=round(result.confidence, 4),
        results=[
            SuggestedArticlePublic(
                article_id=hit.article.id,
                title=hit.article.title,
                url=hit.article.url,
                locale=hit.article.locale,
                category=hit.article.category,
                snippet=hit.snippet,
                snippet_html=hit.snippet_html,
                highlights=hit.highlights,
                score=round(hit.score, 6),
                confidence=round(hit.confidence, 4),
                label=label,
                fallback=hit.fallback,
            )
            for hit, label in result.hits
        ],
    )
