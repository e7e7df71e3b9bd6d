"""The table entries of portfolios and treatments (contract 1.4): portfolio ..., treat."""

from __future__ import annotations

from . import render, render_portfolio, request_builders, responses
from .command import Command

PORTFOLIO_COMMANDS: dict[str, Command] = {
    "treat": Command(
        "SetSegmentTreatment",
        lambda args: request_builders.set_segment_treatment_request(
            args.run_id,
            args.segment_code,
            args.strategy,
            channel=args.channel,
            message=args.message,
        ),
        responses.set_segment_treatment_response,
        lambda console, response, args: render.render_segment(console, response),
    ),
    "portfolio add": Command(
        "CreatePortfolio",
        lambda args: request_builders.create_portfolio_request(
            args.name, args.rows, args.columns, owner=args.owner, objective=args.objective
        ),
        responses.portfolio_response,
        lambda console, response, args: render_portfolio.render_portfolio(console, response),
    ),
    "portfolio list": Command(
        "ListPortfolios",
        lambda args: request_builders.list_portfolios_request(),
        responses.list_portfolios_response,
        lambda console, response, args: render_portfolio.render_portfolios(console, response),
    ),
    "portfolio show": Command(
        "GetPortfolio",
        lambda args: request_builders.portfolio_id_request(args.portfolio_id),
        responses.portfolio_response,
        lambda console, response, args: render_portfolio.render_portfolio_evaluation(
            console, response
        ),
        spinner=lambda args: f"Evaluating portfolio {args.portfolio_id}",
    ),
    "portfolio history": Command(
        "GetPortfolioHistory",
        lambda args: request_builders.portfolio_id_request(args.portfolio_id),
        responses.get_portfolio_history_response,
        lambda console, response, args: render_portfolio.render_portfolio_history(
            console, response
        ),
    ),
    "portfolio owner": Command(
        "SetPortfolioCellOwner",
        lambda args: request_builders.set_portfolio_cell_owner_request(
            args.portfolio_id, args.row_segment_code, args.column_segment_code, args.owner
        ),
        responses.set_portfolio_cell_owner_response,
        lambda console, response, args: render_portfolio.render_cell_owner(console, response),
    ),
    "portfolio treat": Command(
        "SetPortfolioCellTreatment",
        lambda args: request_builders.set_portfolio_cell_treatment_request(
            args.portfolio_id,
            args.row_segment_code,
            args.column_segment_code,
            args.strategy,
            channel=args.channel,
            message=args.message,
        ),
        responses.set_portfolio_cell_treatment_response,
        lambda console, response, args: render_portfolio.render_cell_treatment(console, response),
    ),
    "portfolio remove": Command(
        "DeletePortfolio",
        lambda args: request_builders.portfolio_id_request(args.portfolio_id),
        responses.portfolio_response,
        lambda console, response, args: render_portfolio.render_portfolio(console, response),
    ),
}
