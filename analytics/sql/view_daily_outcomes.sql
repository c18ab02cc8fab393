-- Per day and outcome class: tokens and cost (the stacked daily chart).
WITH f AS (
    SELECT * FROM session_days($slice)
    WHERE day NOT IN (SELECT day FROM session_days($slice) GROUP BY day
                      HAVING small_group($slice, count(DISTINCT user_name), bool_or(user_name = scope()['viewer'])))
)
SELECT day, outcome, tokens, usd(cost) AS cost_usd
FROM (
    SELECT day, 'kept' AS outcome, total(kept_tokens) AS tokens, exact_sum(kept_cost_usd) AS cost FROM f GROUP BY day
    UNION ALL SELECT day, 'looping', total(looping_tokens), exact_sum(looping_cost_usd) FROM f GROUP BY day
    UNION ALL SELECT day, 'discarded', total(discarded_tokens), exact_sum(discarded_cost_usd) FROM f GROUP BY day
    UNION ALL SELECT day, 'idle', total(idle_tokens), exact_sum(idle_cost_usd) FROM f GROUP BY day
    UNION ALL SELECT day, 'overhead', total(overhead_tokens), exact_sum(overhead_cost_usd) FROM f GROUP BY day
)
ORDER BY day, CASE outcome WHEN 'kept' THEN 1 WHEN 'looping' THEN 2 WHEN 'discarded' THEN 3 WHEN 'idle' THEN 4 ELSE 5 END;
