-- One row for the Data health page: how many people the org directory expects in the slice, how
-- many of them have no sessions in the period, and the first of those (the order the people view
-- lists them in: longest silent first). No row when the slice holds nobody of the directory.
WITH p AS (SELECT * FROM people_rows($slice, $today, $first_plausible, $last_plausible) WHERE in_directory)
SELECT count(*) AS directory_people,
       count(*) FILTER (WHERE activity <> 'active') AS absent_people,
       coalesce(list("user" ORDER BY last_request_at NULLS FIRST, "user") FILTER (WHERE activity <> 'active'), [])[1:$listed]
           AS absent_sample
FROM p HAVING count(*) > 0;
