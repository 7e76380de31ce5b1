from sqlalchemy import func, select

import models as m


async def test_explore(app, tokens):
    sessions = app.state.services.sessions
    async with sessions() as s:
        q = lambda st: s.execute(st)
        print(
            "demo vol attendances",
            (
                await q(
                    select(m.Attendance.id, m.Attendance.method, m.Attendance.check_in_lat).where(
                        m.Attendance.volunteer_id == 1
                    )
                )
            ).all(),
        )
        print(
            "lixia team1 GPS att",
            (
                await q(
                    select(func.count()).where(
                        m.Attendance.team_id == 1, m.Attendance.check_in_lat.is_not(None)
                    )
                )
            ).all(),
        )
        TM = m.TeamMembership
        print(
            "non-37 vols joined 37 team",
            (
                await q(
                    select(m.Volunteer.id, m.Volunteer.region_code, TM.region_code, TM.status)
                    .join(TM, TM.volunteer_id == m.Volunteer.id)
                    .where(TM.region_code.like("37%"), m.Volunteer.region_code.not_like("37%"))
                )
            ).all(),
        )
        print(
            "non-lixia vols in team 1",
            (
                await q(
                    select(m.Volunteer.id, m.Volunteer.region_code, TM.status)
                    .join(TM, TM.volunteer_id == m.Volunteer.id)
                    .where(TM.team_id == 1, m.Volunteer.region_code.not_like("370102%"))
                )
            ).all(),
        )
        print(
            "lixia vols w/ foreign memberships",
            (
                await q(
                    select(m.Volunteer.id, TM.region_code, TM.status)
                    .join(TM, TM.volunteer_id == m.Volunteer.id)
                    .where(TM.region_code.not_like("370102%"), m.Volunteer.region_code.like("370102%"))
                )
            ).all(),
        )
        SR = m.ServiceRecord
        print(
            "lixia vols w/ foreign records",
            (
                await q(
                    select(SR.volunteer_id, SR.region_code)
                    .join(m.Volunteer, SR.volunteer_id == m.Volunteer.id)
                    .where(SR.region_code.not_like("370102%"), m.Volunteer.region_code.like("370102%"))
                )
            ).all(),
        )
        print(
            "xihu vols w/ lixia records",
            (
                await q(
                    select(SR.volunteer_id, SR.region_code)
                    .join(m.Volunteer, SR.volunteer_id == m.Volunteer.id)
                    .where(SR.region_code.like("370102%"), m.Volunteer.region_code.not_like("370102%"))
                )
            ).all(),
        )
        print(
            "teams",
            (
                await q(
                    select(
                        m.Team.id, m.Team.region_code, m.Team.name, m.Team.credit_code, m.Team.contact_team_id
                    )
                )
            ).all(),
        )
        print(
            "team1 membership statuses",
            (await q(select(TM.status, func.count()).where(TM.team_id == 1).group_by(TM.status))).all(),
        )
        SU = m.SignUp
        print(
            "signups to team 1 by non-members",
            (
                await q(
                    select(SU.volunteer_id).where(
                        SU.team_id == 1,
                        SU.volunteer_id.not_in(select(TM.volunteer_id).where(TM.team_id == 1)),
                    )
                )
            ).all(),
        )
