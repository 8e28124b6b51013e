/**
 * Alerts that reach staff: the open staff-fixable SENCE errors of a course (banner on the report
 * and the staff home). The daily e-mail digest is sent by the digest job (alert-digest.ts).
 */
import type { CourseKey } from '../domain/types';
import type { Stores } from '../store/ports';
import { openStaffAlerts, type StaffAlert } from '../domain/staff-alerts';

export interface AlertView extends StaffAlert {
  learnerNames: string[];
}

export class AlertService {
  constructor(private readonly stores: Stores) {}

  async openAlerts(course: CourseKey): Promise<AlertView[]> {
    const alerts = openStaffAlerts(await this.stores.attendance.listCourseSessions(course));
    return Promise.all(alerts.map(async (a) => ({
      ...a,
      learnerNames: await Promise.all(a.subs.map(async (sub) => (await this.stores.learners.get({ issuer: course.issuer, clientId: course.clientId, sub }))?.name ?? sub)),
    })));
  }
}
