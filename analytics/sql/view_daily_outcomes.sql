-- Per day and outcome class: tokens and cost (the stacked daily chart).
WITH f AS (SELECT * FROM session_days($date_from, $date_to, $team, $user, $project, $source, $model))
SELECT day, outcome, tokens, usd(cost) AS cost_usd
FROM (
    SELECT day, 'kept' AS outcome, sum(kept_tokens)::BIGINT AS tokens, sum(kept_cost_usd) AS cost FROM f GROUP BY day
    UNION ALL SELECT day, 'looping', sum(looping_tokens)::BIGINT, sum(looping_cost_usd) FROM f GROUP BY day
    UNION ALL SELECT day, 'discarded', sum(discarded_tokens)::BIGINT, sum(discarded_cost_usd) FROM f GROUP BY day
    UNION ALL SELECT day, 'idle', sum(idle_tokens)::BIGINT, sum(idle_cost_usd) FROM f GROUP BY day
    UNION ALL SELECT day, 'overhead', sum(overhead_tokens)::BIGINT, sum(overhead_cost_usd) FROM f GROUP BY day
)
ORDER BY day, CASE outcome WHEN 'kept' THEN 1 WHEN 'looping' THEN 2 WHEN 'discarded' THEN 3 WHEN 'idle' THEN 4 ELSE 5 END;
