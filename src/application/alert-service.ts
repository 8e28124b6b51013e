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
    if (alerts.length === 0) return [];
    const learners = await this.stores.learners.getMany(course, alerts.flatMap((a) => a.subs));
    return alerts.map((a) => ({ ...a, learnerNames: a.subs.map((sub) => learners.get(sub)?.name ?? sub) }));
  }
}
