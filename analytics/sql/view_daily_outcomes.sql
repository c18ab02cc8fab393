-- Per day and outcome class: tokens and cost (the stacked daily chart).
WITH f AS (SELECT * FROM session_days($slice))
SELECT day, outcome, tokens, usd(cost) AS cost_usd
FROM (
    SELECT day, 'kept' AS outcome, total(kept_tokens) AS tokens, exact_sum(kept_cost_usd) AS cost FROM f GROUP BY day
    UNION ALL SELECT day, 'looping', total(looping_tokens), exact_sum(looping_cost_usd) FROM f GROUP BY day
    UNION ALL SELECT day, 'discarded', total(discarded_tokens), exact_sum(discarded_cost_usd) FROM f GROUP BY day
    UNION ALL SELECT day, 'idle', total(idle_tokens), exact_sum(idle_cost_usd) FROM f GROUP BY day
)
ORDER BY day, CASE outcome WHEN 'kept' THEN 1 WHEN 'looping' THEN 2 WHEN 'discarded' THEN 3 ELSE 4 END;
