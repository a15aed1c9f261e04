-- The customers list as it stood at the end of each month of the data (D-43: C6, C7, C8 judge
-- the customers in the list at the month / quarter end), for the customers those duties can
-- judge: VIP tiers (C6 red VIPs, C8) and project customers (C7).
--
-- A customer's row for month M is the version in effect at the month's cut-off (its last day, or
-- the as-of date for the last month): the newest version exported on or before it, by the
-- precedence ingest uses for raw.customers (later export, then later file; customers have no
-- version column). A re-export that changes the tier or district therefore moves the customer
-- from that month on and leaves earlier months as they were. Customers no version of which was
-- ever VIP or project are left out before anything is joined: one row in 25 on the city preset.

{%- set customers_source = (graph.get('sources') or {}).get('source.kefu.raw.customers', {}) %}
{%- if customers_source and customers_source.meta.get('version_column') %}
{{ exceptions.raise_compiler_error('int_customers_snapshotted orders customer versions by export; raw.customers now has a version column') }}
{%- endif %}

with versions as (

    select * from {{ ref('stg_customer_versions') }}

),

months as (

    select * from {{ ref('int_months_enumerated') }}

),

tiers as (

    select * from {{ ref('rulebook_tiers') }}

),

flagged_versions as (

    -- is_judged: a version C6-C8 can judge (a VIP tier, or a project customer)
    select
        versions.*,
        coalesce(tiers.is_vip, false) or coalesce(versions.is_project, false) as is_judged
    from versions
    left join tiers
        on tiers.tier = versions.tier

),

judged_customers as (

    select distinct customer_id
    from flagged_versions
    where is_judged

),

intervals as (

    -- each version is in effect from its export date until the next version's (one exported
    -- the same day in a later file supersedes it at once: an empty interval)
    select
        flagged_versions.*,
        lead(flagged_versions.export_date) over (
            partition by flagged_versions.customer_id
            order by flagged_versions.export_date, flagged_versions.file_id
        ) as superseded_date
    from flagged_versions
    inner join judged_customers
        on judged_customers.customer_id = flagged_versions.customer_id

),

month_cutoffs as (

    select
        *,
        case when as_of_date < month_end then as_of_date else month_end end as cutoff_date
    from months

),

final as (

    select
        -- keys
        month_cutoffs.period_month,
        intervals.customer_id,
        -- attributes (of the version in effect at the cut-off)
        intervals.tier,
        intervals.district_id,
        intervals.is_project,
        intervals.project_delivery_date,
        intervals.export_date,
        -- month
        month_cutoffs.month_start,
        month_cutoffs.month_end,
        month_cutoffs.quarter_start,
        month_cutoffs.year_start,
        month_cutoffs.is_complete,
        month_cutoffs.is_quarter_end
    from month_cutoffs
    inner join intervals
        on intervals.export_date <= month_cutoffs.cutoff_date
        and (intervals.superseded_date is null or intervals.superseded_date > month_cutoffs.cutoff_date)
    where intervals.is_judged

)

select * from final
